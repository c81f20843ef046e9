/**
 * `npm run bench:compare -- <revision> [--rounds=N] [bench options…]`: the bench of another
 * revision and of this checkout, in turn, N rounds (default 3; the order alternates between rounds),
 * then the median of each figure and this checkout's ratio to the other. On a machine whose speed
 * moves from one minute to the next (docs/performance.md), a change is judged by runs made side by
 * side, not by a run today against one made yesterday.
 *
 * The other revision is checked out as a git worktree in `bench/.cache/compare/<commit>/` (kept for
 * the next comparison) and runs its own `bench/run.ts` with this checkout's `node_modules`. Bench
 * options (`--only=a,c`, `--quick`, `--hub-node-options=…`) go to both sides.
 */
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchOptionsOrExit, HELP } from './lib/options.js'
import { keepRunningWhenOutputCloses } from '../src/cli/output.js'
import { onStopSignal } from './lib/signals.js'
import { apartByChance, comparisonTable, summarize, targetLoadLines, type BenchResult } from './lib/compare.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const log = (s: string): void => { process.stderr.write(s + '\n') }
keepRunningWhenOutputCloses()

function usage (why: string): never {
  log(`${why}\nusage: npm run bench:compare -- <revision> [--rounds=N] [bench options…]`)
  process.exit(2)
}

const args = process.argv.slice(2)
const rev = args.find((a) => !a.startsWith('-'))
const benchArgs = args.filter((a) => a !== rev && !a.startsWith('--rounds='))
// The options go to both sides' bench: checked here first (the other revision's bench may not know
// an option, and would run for minutes without it).
benchOptionsOrExit(benchArgs, `usage: npm run bench:compare -- <revision> [--rounds=N] [bench options…]\n\n${HELP}`)
if (rev === undefined) usage('which revision to compare with?')
const roundsArg = args.find((a) => a.startsWith('--rounds='))?.slice(9)
const rounds = roundsArg === undefined ? 3 : Number(roundsArg)
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) usage(`--rounds is a whole number from 1 to 20, not ${roundsArg ?? ''}`)

const git = (...a: string[]): string => {
  const r = spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) usage(`git ${a.join(' ')}: ${r.stderr.trim()}`)
  return r.stdout.trim()
}
const commit = git('rev-parse', '--verify', `${rev}^{commit}`)
const short = commit.slice(0, 10)

/** The other revision's worktree, with this checkout's dependencies, corpus and signed documents. */
function worktree (): string {
  const base = join(ROOT, 'bench/.cache/compare')
  const dir = join(base, short)
  mkdirSync(base, { recursive: true })
  if (!existsSync(dir)) {
    log(`checking out ${rev} (${short}) into bench/.cache/compare/${short}/ …`)
    git('worktree', 'add', '--detach', dir, commit)
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  // The bench reads the corpus from ../shared/ beside the repository.
  const shared = resolve(ROOT, '../shared')
  if (existsSync(shared) && !existsSync(join(base, 'shared'))) symlinkSync(shared, join(base, 'shared'))
  // The signed documents: copies, so a revision that makes them otherwise does not change ours.
  const cache = join(ROOT, 'bench/.cache')
  mkdirSync(join(dir, 'bench/.cache'), { recursive: true })
  for (const f of readdirSync(cache)) {
    const from = join(cache, f)
    if (statSync(from).isFile() && !existsSync(join(dir, 'bench/.cache', f))) copyFileSync(from, join(dir, 'bench/.cache', f))
  }
  return dir
}

/** The side's bench now running: stopped with this process (it stops its own hubs, sink and Redis). */
let current: ReturnType<typeof spawn> | undefined
onStopSignal((signal, code) => {
  const child = current
  if (child === undefined || child.exitCode !== null) process.exit(code)
  child.once('exit', () => process.exit(code))
  // A Ctrl-C reaches the child too (one process group), a `kill` of this process does not:
  // passed on either way, the child takes the first and ignores the second.
  child.kill(signal)
})

/** Runs one side's bench; its result file, read back. */
async function runBench (name: string, cwd: string): Promise<{ file: string, result: BenchResult }> {
  log(`── ${name}: npm run bench ${benchArgs.join(' ')}`)
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...benchArgs], { cwd, stdio: ['ignore', 'pipe', 'inherit'] })
  current = child
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => { out += d })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const file = /written to (.+\.json)/.exec(out)?.[1]
  if (code !== 0 || file === undefined) {
    process.stdout.write(out)
    throw new Error(`the bench of ${name} ended with code ${String(code)} and no result file`)
  }
  return { file, result: JSON.parse(readFileSync(file, 'utf8')) as BenchResult }
}

const other = worktree()
const sides = [{ name: short, dir: other }, { name: 'this', dir: ROOT }]
const results: Record<string, Array<{ file: string, result: BenchResult }>> = { [short]: [], this: [] }
try {
  for (let i = 0; i < rounds; i++) {
    log(`round ${i + 1} of ${rounds}`)
    for (const s of i % 2 === 0 ? sides : [...sides].reverse()) results[s.name].push(await runBench(s.name, s.dir))
  }
} catch (err) {
  log((err as Error).message)
  process.exit(1)
}

const a = summarize(results[short].map((r) => r.result))
const b = summarize(results.this.map((r) => r.result))
const lines = [
  '',
  `${short} (${rev}) against this checkout, the median of ${rounds} round${rounds === 1 ? '' : 's'} each, run in turn:`,
  'rate: delivered/s (accepted/s for a baseline); CPU all: ms in all per message; event loop: the hub\'s event-loop CPU ms per message; p99: (a) at 1,000/s, ms; ES256: µs of CPU, the machine\'s speed before the row',
  rounds > 1
    ? `apart: every round of one side had a higher rate (or event-loop CPU) than every round of the other (two identical versions come out apart once in ${Math.round(1 / apartByChance(rounds, rounds))} comparisons of ${rounds} rounds)`
    : 'apart: needs two rounds a side or more (--rounds=N)',
  ...comparisonTable(a, b, [short, 'this']),
  ...targetLoadLines(a, b, [short, 'this'])
]
process.stdout.write(lines.join('\n') + '\n')
mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
const file = join(ROOT, `bench/results/compare-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), against: { rev, commit }, rounds, benchArgs, files: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map((r) => r.file)])), summary: { [short]: a, this: b } }, null, 2))
process.stdout.write(`written to ${file}\n`)
