/**
 * The bench's command-line options (`npm run bench -- --help`), read and checked before any work:
 * an unknown option or a bad value stops the bench (and `bench:compare`, which passes them on) with
 * the reason, rather than a three-minute run that ignored it.
 */

export const ROW_IDS = ['a', 'b', 'c', 'd', 'bare-a', 'bare-b', 'bare-c', 'xml-crypto-a', 'xml-crypto-b']

export const HELP = `usage: npm run bench [-- options]
  --quick                   a short look, about a minute
  --only=ROW,…              these rows only: ${ROW_IDS.join(' ')}
  --cpu-prof                a V8 CPU profile of each hub process, in bench/results/profiles/
  --perf                    a whole-machine profile (Linux perf) of each hub row's saturation run:
                            shares by thread and by kind of work, and the recording in bench/results/profiles/
  --connections=N           connections of the closed loop at saturation (default 256)
  --check-threads=N         document-check threads per hub process, 0 for none (default the hub's own)
  --cluster-processes=N     (d)'s hub processes (default 2)
  --cluster-queue=Q         (d)'s delivery queue: bullmq or stream (default the hub's own)
  --hub-node-options="…"    Node or V8 options for the hub processes
  --help                    this text
The table goes to stdout, progress to stderr, the whole result to bench/results/bench-<time>.json.
Another revision against this checkout: npm run bench:compare -- <revision> [--rounds=N] [options].
See docs/performance.md.
`

export interface BenchOptions {
  help: boolean
  quick: boolean
  cpuProf: boolean
  /** A whole-machine `perf` profile of each hub row's saturation run. */
  perf: boolean
  /** Rows to run; all when absent. */
  only?: string[]
  connections: number
  /** Check threads per hub process; the hub's own default when absent. */
  checkThreads?: number
  clusterProcesses: number
  /** (d)'s queue; the hub's own default when absent. */
  clusterQueue?: 'bullmq' | 'stream'
  hubNodeOptions: string[]
}

/** An unknown option or a bad value; the message says which and why. */
export class BenchOptionError extends Error {
  override name = 'BenchOptionError'
}

const FLAGS = ['--quick', '--cpu-prof', '--perf', '--help', '-h']
const VALUED = ['only', 'connections', 'check-threads', 'cluster-processes', 'cluster-queue', 'hub-node-options']

/** Reads the bench's options. @throws BenchOptionError for an unknown option or a bad value. */
export function parseBenchOptions (args: string[]): BenchOptions {
  for (const a of args) {
    if (!FLAGS.includes(a) && !VALUED.some((v) => a.startsWith(`--${v}=`))) throw new BenchOptionError(`unknown option ${a}`)
  }
  const value = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const count = (name: string, min: number, max: number): number | undefined => {
    const raw = value(name)
    if (raw === undefined) return undefined
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || n < min || n > max) throw new BenchOptionError(`--${name} is a whole number from ${min} to ${max}, not "${raw}"`)
    return n
  }
  const only = value('only')?.split(',')
  const unknownRows = only?.filter((id) => !ROW_IDS.includes(id)) ?? []
  if (unknownRows.length > 0) throw new BenchOptionError(`--only takes ${ROW_IDS.join(' ')}, not ${unknownRows.join(' ')}`)
  const clusterQueue = value('cluster-queue')
  if (clusterQueue !== undefined && clusterQueue !== 'bullmq' && clusterQueue !== 'stream') throw new BenchOptionError(`--cluster-queue is bullmq or stream, not ${clusterQueue}`)
  const checkThreads = count('check-threads', 0, 256)
  return {
    help: args.includes('--help') || args.includes('-h'),
    quick: args.includes('--quick'),
    cpuProf: args.includes('--cpu-prof'),
    perf: args.includes('--perf'),
    ...(only !== undefined ? { only } : {}),
    connections: count('connections', 1, 10_000) ?? 256,
    ...(checkThreads !== undefined ? { checkThreads } : {}),
    clusterProcesses: count('cluster-processes', 1, 16) ?? 2,
    ...(clusterQueue !== undefined ? { clusterQueue } : {}),
    hubNodeOptions: (value('hub-node-options') ?? '').split(' ').filter((a) => a !== '')
  }
}

/**
 * The options of `args` for the bench or `bench:compare`: a refused one ends the process with the
 * reason and exit code 2, `--help` with `help` on stdout and exit code 0.
 */
export function benchOptionsOrExit (args: string[], help: string): BenchOptions {
  let options: BenchOptions
  try {
    options = parseBenchOptions(args)
  } catch (err) {
    if (!(err instanceof BenchOptionError)) throw err
    process.stderr.write(`${err.message}\n(npm run bench -- --help lists the options)\n`)
    process.exit(2)
  }
  if (options.help) {
    process.stdout.write(help)
    process.exit(0)
  }
  return options
}
