import { median } from './figures.js'

/** One row of a micro-benchmark: what it is and the call it measures. */
export type Row = [name: string, fn: () => unknown]

/**
 * CPU µs per call of each row: the least over short rounds (CPU time, not wall time, so that a
 * machine shared with other work says less about its neighbours), or with `statistic: 'median'`
 * their median (how fast the machine is at that moment, bench/lib/machine.ts). Each row runs all its rounds
 * before the next starts, so that the garbage one row leaves is collected in its own time.
 */
export function cpuPerOp (rows: Row[], opts: { rounds: number, roundMs: number, statistic?: 'least' | 'median' }): number[] {
  return rows.map(([, fn]) => {
    for (let i = 0; i < 20; i++) fn()
    let batch = 0
    const start = process.cpuUsage()
    for (;;) {
      fn()
      batch++
      const used = process.cpuUsage(start)
      if (used.user + used.system >= opts.roundMs * 1000) break
    }
    const per: number[] = []
    for (let r = 0; r < opts.rounds; r++) {
      const t0 = process.cpuUsage()
      for (let k = 0; k < batch; k++) fn()
      const used = process.cpuUsage(t0)
      per.push((used.user + used.system) / batch)
    }
    return opts.statistic === 'median' ? median(per) : Math.min(...per)
  })
}
