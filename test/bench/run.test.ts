import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
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

/** Result files in bench/results/ now. */
function resultFiles (): Set<string> {
  const dir = join(ROOT, 'bench/results')
  return new Set(existsSync(dir) ? readdirSync(dir).filter((f) => /^bench-.*\.json$/.test(f)) : [])
}

/** A short bench run whose reader closes `closed` at once; resolves with its exit code and the stderr it could still read. */
async function benchReadBriefly (closed: Array<'stdout' | 'stderr'>): Promise<{ status: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only=bare-c', '--quick'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  for (const name of closed) child[name].destroy()
  const status = await new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  return { status, stderr }
}

t.test('a reader that stops reading (npm run bench | head) does not end the run: it finishes and writes its file', { timeout: 240_000 }, async (t) => {
  const before = resultFiles()
  const r = await benchReadBriefly(['stdout'])
  t.equal(r.status, 0, 'exit code 0')
  t.match(r.stderr, /bare\(c\): \d+ s/, 'the progress still shows on stderr')
  t.notMatch(r.stderr, /EPIPE|Unhandled|^\s+at /m, 'no stack trace')
  const written = [...resultFiles()].filter((f) => !before.has(f))
  t.equal(written.length, 1, 'one new result file')
  const result = JSON.parse(readFileSync(join(ROOT, 'bench/results', written[0]), 'utf8')) as { rows: Array<{ id: string, acceptedPerSec: number }> }
  t.equal(result.rows[0]?.id, 'bare(c)')
  t.ok(result.rows[0].acceptedPerSec > 0, 'with its figures')
  rmSync(join(ROOT, 'bench/results', written[0]))

  const both = await benchReadBriefly(['stdout', 'stderr'])
  t.equal(both.status, 0, 'and with stderr closed too, exit code 0')
  const again = [...resultFiles()].filter((f) => !before.has(f))
  t.equal(again.length, 1, 'and its file')
  for (const f of again) rmSync(join(ROOT, 'bench/results', f))
})

t.test('--perf where perf cannot run stops the bench at once and says so', async (t) => {
  const r = benchWithoutRedis(['--only=c', '--perf'])
  t.equal(r.status, 2)
  t.match(r.stderr, /--perf samples the whole machine with Linux perf, which cannot record here \(.*ENOENT.*\): install it/)
  t.notMatch(r.stderr, /compiling the processes under test/, 'before any work')
})

t.test('--perf profiles the whole machine over a hub row\'s saturation run: by thread, by kind of work, the recording kept', { timeout: 240_000 }, async (t) => {
  const maps = (): string[] => readdirSync('/tmp').filter((f) => /^perf-\d+\.map$/.test(f))
  const mapsBefore = new Set(maps())
  const before = resultFiles()
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only=c', '--quick', '--perf'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 })
  t.equal(r.status, 0, r.stderr.slice(-2000))
  t.match(r.stderr, /whole machine, % of [\d,]+ samples, by thread: .*hub event loop [\d.]+/)
  t.match(r.stderr, /by kind of work: .*public-key crypto [\d.]+/)
  const written = [...resultFiles()].filter((f) => !before.has(f))
  t.equal(written.length, 1)
  const result = JSON.parse(readFileSync(join(ROOT, 'bench/results', written[0]), 'utf8')) as { rows: Array<{ id: string, perf?: { samples: number, byRole: Record<string, number>, byKind: Record<string, number>, file: string } }> }
  const perf = result.rows[0]?.perf
  t.ok(perf !== undefined && perf.samples > 500, 'the row holds the summary of a recording with samples')
  t.ok((perf?.byRole['hub event loop'] ?? 0) > 5, 'the hub\'s event loop is named')
  t.ok((perf?.byRole['hub check threads'] ?? 0) > 1, 'its check thread too')
  t.ok((perf?.byRole['load generator'] ?? 0) > 0 && (perf?.byRole.sink ?? 0) > 0, 'and the load generator and the sink')
  t.ok((perf?.byKind['public-key crypto'] ?? 0) > 1, 'the JWS signatures show as public-key crypto')
  const total = Object.values(perf?.byRole ?? {}).reduce((a, b) => a + b, 0)
  t.ok(Math.abs(total - 100) < 1, `shares by thread add up to 100 (${total})`)
  t.ok(perf !== undefined && existsSync(join(ROOT, perf.file)), 'the recording is kept for perf report')
  t.same(maps().filter((f) => !mapsBefore.has(f)), [], 'no perf map of a hub left in /tmp')
  if (perf !== undefined) rmSync(join(ROOT, perf.file), { force: true })
  rmSync(join(ROOT, 'bench/results', written[0]))
})
