import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'

/** Small helpers the bench's reports share: a median, percentiles, event-loop lateness and the table's cells. */

/** The median of `xs`; NaN for none. */
export function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** The value at share `p` (0–1) of ascending `sorted` (nearest rank); 0 for none. */
export function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]
}

/** A table line: the first cell left-aligned, the others right-aligned, each to its width. */
export const cols = (cells: string[], widths: number[]): string => cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(' ')

/** A whole number with thousands separators; a dash for none. */
export const n0 = (n: number | undefined): string => n === undefined || Number.isNaN(n) ? '—' : Math.round(n).toLocaleString('en')

/** How often a process's loop lateness is sampled (ms): a timer due every tick. */
const LOOP_TICK_MS = 5

/**
 * A sampler of how late this process's event loop runs a timer; `late` reads it since the last
 * read. The count restarts at the timer's first run after a read (Node's histogram keeps no
 * interval across a reset), so a stall in the first tick after a read is not seen.
 */
export function loopLateness (): { late: () => { p50: number, p99: number, max: number } } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_TICK_MS })
  h.enable()
  // The histogram holds the time between two runs of the timer; the tick is taken off.
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_TICK_MS)
  return {
    late: () => {
      const r = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) }
      h.reset()
      return r
    }
  }
}
