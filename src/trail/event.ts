/**
 * What the trail records. Metadata and digests only: a document's body never enters the trail,
 * so expiring bodies (retention) never touches it.
 */
export const TRAIL_EVENT_TYPES = [
  'accepted',
  'rejected',
  'attempt-failed',
  'delivered',
  'in-mailbox',
  'acked',
  'dead-lettered',
  'replayed',
  'config-changed',
  'keys-changed',
  'started',
  'stopped',
  'bodies-expired'
] as const

export type TrailEventType = typeof TRAIL_EVENT_TYPES[number]

export interface TrailEvent {
  type: TrailEventType
  /** When it happened (ISO 8601). Default: when appended. Never earlier than the previous record's. */
  at?: string
  messageId?: string
  /** The authenticated sender of an accepted message. */
  sender?: string
  /** The EGIF-Sender a refused request named (it may not be the caller). */
  claimedSender?: string
  /** Who made a refused request, when it authenticated. */
  caller?: string
  receiver?: string
  documentType?: string
  documentVersion?: string
  /** `sha256:` + hex of the document's bytes. */
  digest?: string
  /** Size of the document in bytes. */
  size?: number
  /** Delivery attempt, 1-based. */
  attempt?: number
  /** An error code (rejections, failed attempts, dead letters). */
  code?: string
  /** HTTP status of a refusal. */
  status?: number
  /** Who caused it (acked: the receiver; replayed: the operator). */
  by?: string
  /** Short text: never a document body, never a key. */
  detail?: string
}

/** A record as stored: its position, the hash of the record before it, and the event. */
export interface TrailRecord extends TrailEvent {
  i: number
  /** Hex RFC 9162 leaf hash of record i−1 (64 zeros for record 0). */
  prev: string
  at: string
}

/** The members of a record in the order they are written; nothing else is accepted. */
export const RECORD_FIELDS = ['i', 'prev', 'at', 'type', 'messageId', 'sender', 'claimedSender', 'caller', 'receiver', 'documentType', 'documentVersion', 'digest', 'size', 'attempt', 'code', 'status', 'by', 'detail'] as const

/** Every participant a record names, for search by participant. */
export function participantsOf (r: TrailEvent): string[] {
  const out: string[] = []
  for (const p of [r.sender, r.receiver, r.claimedSender, r.caller, r.by]) {
    if (p !== undefined && !out.includes(p)) out.push(p)
  }
  return out
}
