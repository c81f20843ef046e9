import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { BenchOptionError, parseBenchOptions, ROW_IDS } from '../../bench/lib/options.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

t.test('no options: every row, the defaults', async (t) => {
  t.same(parseBenchOptions([]), { help: false, quick: false, cpuProf: false, perf: false, connections: 256, clusterProcesses: 2, hubNodeOptions: [] })
})

t.test('every option read as given', async (t) => {
  const o = parseBenchOptions(['--quick', '--cpu-prof', '--perf', '--only=a,bare-a', '--connections=96', '--check-threads=0', '--cluster-processes=3', '--cluster-queue=stream', '--hub-node-options=--trace-gc  --max-semi-space-size=8'])
  t.same(o, { help: false, quick: true, cpuProf: true, perf: true, only: ['a', 'bare-a'], connections: 96, checkThreads: 0, clusterProcesses: 3, clusterQueue: 'stream', hubNodeOptions: ['--trace-gc', '--max-semi-space-size=8'] })
  t.equal(parseBenchOptions(['-h']).help, true)
  t.equal(parseBenchOptions(['--help']).help, true)
  t.same(parseBenchOptions([`--only=${ROW_IDS.join(',')}`]).only, ROW_IDS)
})

t.test('an unknown option or a bad value is refused with the reason', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--quik'], /^unknown option --quik$/],
    [['quick'], /^unknown option quick$/],
    [['--connections'], /^unknown option --connections$/],
    [['--only=a,e'], /--only takes a b c d .* not e$/],
    [['--connections='], /--connections is a whole number from 1 to 10000, not ""/],
    [['--connections=1e3'], /not "1e3"/],
    [['--connections=10001'], /not "10001"/],
    [['--cluster-processes=0'], /--cluster-processes is a whole number from 1 to 16, not "0"/],
    [['--check-threads=257'], /--check-threads is a whole number from 0 to 256, not "257"/],
    [['--cluster-queue=BullMQ'], /--cluster-queue is bullmq or stream, not BullMQ/]
  ]
  for (const [args, said] of cases) {
    let thrown: unknown
    try { parseBenchOptions(args) } catch (err) { thrown = err }
    t.ok(thrown instanceof BenchOptionError, `refused: ${args.join(' ')}`)
    t.match((thrown as Error | undefined)?.message, said)
  }
})

t.test('bench:compare refuses a bad bench option before it checks anything out', async (t) => {
  const head1 = spawnSync('git', ['rev-parse', '--short=10', 'HEAD~1'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim()
  const worktree = join(ROOT, 'bench/.cache/compare', head1)
  // A worktree kept from an earlier comparison stays; one that was not there must not appear.
  const there = existsSync(worktree)
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/compare.ts', 'HEAD~1', '--only=a', '--connectoins=64'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 2)
  t.match(r.stderr, /unknown option --connectoins=64/)
  t.match(r.stderr, /npm run bench -- --help lists the options/)
  t.notMatch(r.stderr, /checking out/)
  t.equal(existsSync(worktree), there, 'no worktree made')
})

t.test('bench:compare --help prints its usage and the bench options, exit code 0', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/compare.ts', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0)
  t.match(r.stdout, /^usage: npm run bench:compare -- <revision>/)
  t.match(r.stdout, /--connections=N/)
})
