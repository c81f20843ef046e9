/** Small helpers the bench's reports share: a median and the table's cells. */

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
