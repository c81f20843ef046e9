import type { Jwks } from '../crypto/jwk.js'
import { GENESIS, toHex } from './hash.js'
import type { TrailIndex } from './trail-index.js'

export const BUNDLE_FORMAT = 'egif-trail-bundle/1'

/**
 * The first line of a bundle. A bundle is JSON Lines: this header, then the records exactly as
 * the hub wrote them (each line starts with `{"i":`), then one line per checkpoint.
 */
export interface BundleHeader {
  format: typeof BUNDLE_FORMAT
  log: string
  /** The period asked for (ISO times, inclusive); absent for a whole trail. */
  from?: string
  to?: string
  /** Index of the first record in the bundle; the records before it are summed up by `frontier`. */
  start: number
  /** Index after the last record: the size of the last checkpoint in the bundle. */
  end: number
  /** RFC 9162 perfect-subtree hashes (hex, largest first) covering records [0, start). */
  frontier: string[]
  /** Leaf hash of record start−1 (the `prev` of the first record). */
  prev: string
  /** The hub's published keys at export time, with certificates (x5c) where the hub has them. */
  jwks: Jwks
  exportedAt: string
}

/**
 * The lines of a bundle for a period: from the record just before the period (so an auditor sees
 * that nothing in the period was left out at its start) to the first checkpoint that covers the
 * period's last record (so everything is proven by a signature). The caller makes sure such a
 * checkpoint exists.
 */
export function * bundleLines (ix: TrailIndex, jwks: Jwks, period: { from?: string, to?: string }, now: Date): Generator<Buffer> {
  const cps = ix.checkpoints
  const covered = cps.length > 0 ? cps[cps.length - 1].body.size : 0
  const first = period.from !== undefined ? ix.firstAtOrAfter(period.from) : 0
  const afterLast = Math.min(covered, period.to !== undefined ? ix.firstAfter(period.to) : covered)
  const start = Math.min(Math.max(0, first - 1), afterLast)
  const closing = cps.find((c) => c.body.size >= Math.max(afterLast, 1)) ?? cps[cps.length - 1]
  const end = closing?.body.size ?? 0
  const header: BundleHeader = {
    format: BUNDLE_FORMAT,
    log: ix.log,
    ...(period.from !== undefined ? { from: period.from } : {}),
    ...(period.to !== undefined ? { to: period.to } : {}),
    start,
    end,
    frontier: ix.tree.frontier(start).map(toHex),
    prev: start === 0 ? toHex(GENESIS) : toHex(ix.tree.leaf(start - 1)),
    jwks,
    exportedAt: now.toISOString()
  }
  yield Buffer.from(JSON.stringify(header) + '\n')
  const NL = Buffer.from('\n')
  for (let i = start; i < end; i++) yield Buffer.concat([ix.line(i), NL])
  for (const c of cps) {
    if (c.body.size > start && c.body.size <= end) {
      yield Buffer.from(JSON.stringify({ checkpoint: c.checkpoint, ...(c.tsa !== undefined ? { tsa: c.tsa } : {}) }) + '\n')
    }
  }
}
