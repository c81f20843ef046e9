/**
 * The comparison of two versions of the hub from their bench results (`bench/compare.ts`): the
 * median of each figure over the rounds of each version, and the second's ratio to the first.
 */
import { cols, median, n0 } from './figures.js'
import type { ByThread } from './servers.js'

/** The part of a `bench/results/*.json` file a comparison reads. */
export interface BenchResult {
  rows: Array<{
    id: string
    kind: string
    acceptedPerSec: number
    deliveredPerSec: number | null
    cpuMsPerMsgAll: number
    /** The hub's CPU per message by thread: its event loop(s), its check threads, the rest. */
    cpuMsPerMsgByThread?: ByThread
    peakRssMb: number
    fixed?: Array<{ offered: number, share: number, latencyMs: { p99: number }, cpuMsPerMsgAll?: number }>
    calibration?: { es256SignUs: number }
  }>
}

/** One row's figures, each the median over the rounds (undefined where no round had it). */
export interface RowSummary {
  id: string
  rounds: number
  /** Delivered/s for the hub's scenarios, accepted/s for a baseline without delivery. */
  rate: number
  /** Every round's rate, in round order. */
  rates: number[]
  cpuAll: number
  /**
   * The hub's event-loop CPU ms per message, and every round's: far steadier between runs than a
   * rate, since it does not move with the other processes' share of the cores.
   */
  loopCpu?: number
  loopCpus?: number[]
  peakRssMb: number
  /** (a)'s p99 accept latency at 1,000/s offered. */
  p99AtTarget?: number
  /**
   * (a)'s CPU ms in all per message at 1,000/s offered, and every round's: the cost at a load both
   * versions ran at, where a change in the work done at a light load shows (a fixed share of each
   * side's own saturation is a different rate on each side).
   */
  cpuAllAtTarget?: number
  cpuAllsAtTarget?: number[]
  es256Us?: number
}

/** The median of each row's figures over `results` (one result per round), rows in first-seen order. */
export function summarize (results: BenchResult[]): RowSummary[] {
  const byId = new Map<string, Array<BenchResult['rows'][number]>>()
  for (const r of results) {
    for (const row of r.rows) {
      const list = byId.get(row.id)
      if (list === undefined) byId.set(row.id, [row])
      else list.push(row)
    }
  }
  return [...byId].map(([id, rows]) => {
    const atTarget = rows.flatMap((r) => r.fixed?.filter((x) => x.share === 0 && x.offered === 1000) ?? [])
    const p99 = atTarget.map((x) => x.latencyMs.p99)
    const cpuAtTarget = atTarget.flatMap((x) => x.cpuMsPerMsgAll !== undefined ? [x.cpuMsPerMsgAll] : [])
    const es256 = rows.flatMap((r) => r.calibration !== undefined ? [r.calibration.es256SignUs] : [])
    const rates = rows.map((r) => r.deliveredPerSec ?? r.acceptedPerSec)
    const loopCpus = rows.flatMap((r) => r.cpuMsPerMsgByThread !== undefined ? [r.cpuMsPerMsgByThread.main] : [])
    return {
      id,
      rounds: rows.length,
      rate: median(rates),
      rates,
      cpuAll: median(rows.map((r) => r.cpuMsPerMsgAll)),
      ...(loopCpus.length > 0 ? { loopCpu: median(loopCpus), loopCpus } : {}),
      peakRssMb: median(rows.map((r) => r.peakRssMb)),
      ...(p99.length > 0 ? { p99AtTarget: median(p99) } : {}),
      ...(cpuAtTarget.length > 0 ? { cpuAllAtTarget: median(cpuAtTarget), cpuAllsAtTarget: cpuAtTarget } : {}),
      ...(es256.length > 0 ? { es256Us: median(es256) } : {})
    }
  })
}

const ratio = (b: number | undefined, a: number | undefined): string => a === undefined || b === undefined || !(a > 0) || Number.isNaN(b) ? '—' : `${(b / a).toFixed(2)}×`

/**
 * Whether every round of one side had a higher figure (a rate, a CPU time) than every round of
 * the other: a difference the machine's own variation between runs does not cover. Needs two
 * rounds a side.
 */
export function apart (a: number[], b: number[]): boolean {
  if (a.length < 2 || b.length < 2) return false
  return Math.min(...a) > Math.max(...b) || Math.min(...b) > Math.max(...a)
}

/**
 * How often two sides of `n` and `m` rounds come out {@link apart} when they are the same version
 * and only the machine varies (every ordering of the rounds as likely): 2 / C(n + m, n). With three
 * rounds a side one comparison in ten, with five one in 126.
 */
export function apartByChance (n: number, m: number): number {
  let c = 1
  for (let k = 1; k <= n; k++) c = c * (m + k) / k
  return Math.min(1, 2 / c)
}

/**
 * The comparison table: for each row of either version, its median rate, CPU ms in all per
 * message, the hub's event-loop CPU ms per message and (for (a)) p99 at 1,000/s, in `a` and in
 * `b`, and b's ratio to a. A rate ratio above 1 and a CPU or latency ratio below 1 mean `b` is
 * better. The "apart" columns say whether the rates, and the event-loop CPU, of the two sides'
 * rounds do not overlap at all ({@link apart}); where they do, the ratio may be noise.
 */
export function comparisonTable (a: RowSummary[], b: RowSummary[], names: [string, string]): string[] {
  const w = [12, 10, 10, 7, 6, 10, 10, 7, 10, 10, 7, 6, 10, 10, 7, 10, 10]
  const [na, nb] = names.map((n) => n.slice(0, 10))
  const lines = [
    cols(['', 'rate', '', '', '', 'CPU all', '', '', 'event loop', '', '', '', 'p99', '', '', 'ES256 µs', ''], w),
    cols(['', na, nb, 'ratio', 'apart', na, nb, 'ratio', na, nb, 'ratio', 'apart', na, nb, 'ratio', na, nb], w)
  ]
  const ids = [...new Set([...a.map((r) => r.id), ...b.map((r) => r.id)])]
  for (const id of ids) {
    const x = a.find((r) => r.id === id)
    const y = b.find((r) => r.id === id)
    lines.push(cols([
      /^[a-z]$/.test(id) ? `(${id})` : id,
      n0(x?.rate), n0(y?.rate), ratio(y?.rate, x?.rate), x !== undefined && y !== undefined ? (apart(x.rates, y.rates) ? 'yes' : 'no') : '—',
      x?.cpuAll.toFixed(3) ?? '—', y?.cpuAll.toFixed(3) ?? '—', ratio(y?.cpuAll, x?.cpuAll),
      x?.loopCpu?.toFixed(3) ?? '—', y?.loopCpu?.toFixed(3) ?? '—', ratio(y?.loopCpu, x?.loopCpu),
      x?.loopCpus !== undefined && y?.loopCpus !== undefined ? (apart(x.loopCpus, y.loopCpus) ? 'yes' : 'no') : '—',
      x?.p99AtTarget?.toFixed(1) ?? '—', y?.p99AtTarget?.toFixed(1) ?? '—', ratio(y?.p99AtTarget, x?.p99AtTarget),
      x?.es256Us?.toFixed(1) ?? '—', y?.es256Us?.toFixed(1) ?? '—'
    ], w))
  }
  return lines
}

/**
 * Below the table, for each row both versions ran at 1,000/s offered ((a)): the CPU ms in all per
 * message there, the ratio, every round's figure and whether the rounds are apart.
 */
export function targetLoadLines (a: RowSummary[], b: RowSummary[], names: [string, string]): string[] {
  const lines: string[] = []
  for (const x of a) {
    const y = b.find((r) => r.id === x.id)
    if (x.cpuAllsAtTarget === undefined || y?.cpuAllsAtTarget === undefined) continue
    const rounds = (v: number[]): string => v.map((n) => n.toFixed(3)).join(' ')
    const [mx, my] = [median(x.cpuAllsAtTarget), median(y.cpuAllsAtTarget)]
    lines.push(`${/^[a-z]$/.test(x.id) ? `(${x.id})` : x.id} at 1,000/s offered, CPU all ms per message: ${names[0]} ${mx.toFixed(3)} (${rounds(x.cpuAllsAtTarget)}), ${names[1]} ${my.toFixed(3)} (${rounds(y.cpuAllsAtTarget)}), ratio ${ratio(my, mx)}, apart ${apart(x.cpuAllsAtTarget, y.cpuAllsAtTarget) ? 'yes' : 'no'}`)
  }
  return lines
}
