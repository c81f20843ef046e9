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
