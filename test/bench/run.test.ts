import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The bench script with `args`, its PATH only an empty directory (no redis-server on it). */
function benchWithoutRedis (args: string[]): { status: number | null, stderr: string } {
  const empty = mkdtempSync(join(tmpdir(), 'egif-no-path-'))
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: ROOT, env: { ...process.env, PATH: empty }, encoding: 'utf8', timeout: 60_000 })
    return { status: r.status, stderr: r.stderr }
  } finally {
    rmSync(empty, { recursive: true, force: true })
  }
}

t.test('a run that includes (d) with no redis-server to start stops at once and says what to do', async (t) => {
  for (const args of [['--only=d', '--quick'], ['--quick']]) {
    const r = benchWithoutRedis(args)
    t.equal(r.status, 2, `exit code 2 (${args.join(' ')})`)
    t.match(r.stderr, /scenario \(d\) runs a redis-server of its own, and none can be started here \(.*ENOENT.*\): install Redis/)
    t.match(r.stderr, /--only=a,b,c,/, 'says how to leave (d) out')
    t.notMatch(r.stderr, /compiling the processes under test/, 'before any work')
  }
})

t.test('an unknown row is refused before any work', async (t) => {
  const r = benchWithoutRedis(['--only=a,e'])
  t.equal(r.status, 2)
  t.match(r.stderr, /--only takes a b c d .*, not e/)
})

t.test('--help prints the options and exits 0 without running anything', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0)
  for (const option of ['--quick', '--only=', '--cpu-prof', '--connections=', '--check-threads=', '--cluster-processes=', '--cluster-queue=', '--hub-node-options=']) {
    t.match(r.stdout, option, `names ${option}`)
  }
  t.notMatch(r.stderr, /compiling the processes under test/, 'runs nothing')
})

t.test('an unknown option or a bad value stops the bench before any work (bench/lib/options.ts; every case in options.test.ts)', async (t) => {
  for (const [args, said] of [
    [['--qiuck'], /unknown option --qiuck/],
    [['--quick', '--connections=many'], /--connections is a whole number from 1 to 10000, not "many"/]
  ] as Array<[string[], RegExp]>) {
    const r = benchWithoutRedis(args)
    t.equal(r.status, 2, `exit code 2 (${args.join(' ')})`)
    t.match(r.stderr, said)
    t.match(r.stderr, /npm run bench -- --help lists the options/)
    t.notMatch(r.stderr, /compiling the processes under test/, 'before any work')
  }
})

t.test('--perf where perf cannot run stops the bench at once and says so', async (t) => {
  const r = benchWithoutRedis(['--only=c', '--perf'])
  t.equal(r.status, 2)
  t.match(r.stderr, /--perf samples the whole machine with Linux perf, which cannot record here \(.*ENOENT.*\): install it/)
  t.notMatch(r.stderr, /compiling the processes under test/, 'before any work')
})
