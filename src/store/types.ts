/** What the hub knows of one accepted message. Bodies are not held here: see `bodyOf`. */
export type MessageState = 'queued' | 'delivered' | 'in-mailbox' | 'acked' | 'dead-lettered'

export type EventType = 'accepted' | 'attempt-failed' | 'delivered' | 'in-mailbox' | 'acked' | 'dead-lettered' | 'replayed'

export interface MessageEvent {
  type: EventType
  at: string
  /** Delivery attempt number (1-based) for attempt-failed, delivered, dead-lettered. */
  attempt?: number
  code?: string
  detail?: string
  /** When the next attempt is due (attempt-failed). */
  nextAttemptAt?: string
  /** Who caused it (acked: the receiver; replayed: the operator). */
  by?: string
}

export type SenderSignature = 'verified' | 'absent' | 'not-required'

export interface MessageMeta {
  messageId: string
  sender: string
  receiver: string
  documentType: string
  documentVersion: string
  contentType: string
  digest: string
  size: number
  receivedAt: string
  conversationId?: string
  inReplyTo?: string
  senderSignature: SenderSignature
  /** The signing certificate's fingerprint when the sender's signature was verified. */
  signedBy?: string
}

export interface Receipt {
  messageId: string
  status: 'accepted' | 'delivered'
  sender: string
  receiver: string
  documentType: string
  documentVersion: string
  receivedAt: string
  digest: string
  trail: { log: string, index: number }
  deliveredAt?: string
  /** JWS by the hub over every other member. */
  signature: string
}

export interface StoredMessage extends MessageMeta {
  state: MessageState
  attempts: number
  events: MessageEvent[]
  receipt: Receipt
  deliveredReceipt?: Receipt
  seal: string
}

/** Records written to the journal. */
export type JournalRecord =
  | { t: 'accepted', seq: number, meta: MessageMeta, receipt: Receipt, seal: string }
  | { t: 'event', seq: number, sender: string, messageId: string, event: MessageEvent, deliveredReceipt?: Receipt }
  /** A delivered receipt signed after its delivery, when first asked for (see `keepReceipt`). */
  | { t: 'receipt', seq: number, sender: string, messageId: string, deliveredReceipt: Receipt }
  | { t: 'rejected', seq: number, at: string, claimedSender?: string, caller?: string, messageId?: string, code: string, status: number, digest?: string, size: number }
