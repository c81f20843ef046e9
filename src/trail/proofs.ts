import { HubError } from '../errors.js'
import type { TrailRecord } from './event.js'
import { toHex } from './hash.js'
import type { Trail } from './trail.js'

/** Who asks for a proof: an auditor sees every record, anyone else those naming it. */
export interface ProofReader {
  id: string
  role: string
}

export interface MessageProof {
  log: string
  checkpoint: string
  tsa?: string
  size: number
  records: Array<{ index: number, record: string, proof: string[] }>
}

export interface ConsistencyProof {
  log: string
  from: number
  to: number
  proof: string[]
}

/**
 * The records of a message in this trail that `who` may see, each with its RFC 9162 inclusion
 * proof, and a signed checkpoint that covers them all (made now if the latest does not).
 * @throws HubError EGIF_ERR_NOT_FOUND when there is none
 */
export async function messageProof (trail: Trail, messageId: string, who: ProofReader): Promise<MessageProof> {
  const visible = (r: TrailRecord): boolean => who.role === 'auditor' || r.sender === who.id || r.receiver === who.id || r.caller === who.id
  const records = trail.search({ messageId, limit: 1000 }).records.filter(visible)
  if (records.length === 0) throw new HubError('EGIF_ERR_NOT_FOUND', `no trail record of ${messageId} visible to the caller in trail ${trail.log}`)
  let cp = trail.latestCheckpoint()
  if (cp === undefined || cp.body.size <= records[records.length - 1].i) cp = await trail.checkpoint()
  const size = cp!.body.size
  return {
    log: trail.log,
    checkpoint: cp!.checkpoint,
    ...(cp!.tsa !== undefined ? { tsa: cp!.tsa } : {}),
    size,
    records: records.map((r) => ({ index: r.i, record: trail.index.line(r.i).toString('utf8'), proof: trail.index.tree.inclusionProof(r.i, size).map(toHex) }))
  }
}

/**
 * The RFC 9162 consistency proof between the tree of the first `from` records and that of a
 * checkpoint of size `to` (default: the latest).
 * @throws HubError EGIF_ERR_NOT_FOUND (no checkpoint of that size), EGIF_ERR_BAD_REQUEST
 */
export function consistencyProof (trail: Trail, from: number, to?: number): ConsistencyProof {
  const second = to ?? trail.latestCheckpoint()?.body.size ?? 0
  if (!trail.checkpoints().some((c) => c.body.size === second)) throw new HubError('EGIF_ERR_NOT_FOUND', `no checkpoint of size ${second} in trail ${trail.log}`)
  if (from > second) throw new HubError('EGIF_ERR_BAD_REQUEST', 'from must not be larger than to')
  return { log: trail.log, from, to: second, proof: trail.index.tree.consistencyProof(from, second).map(toHex) }
}
