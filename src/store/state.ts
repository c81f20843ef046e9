import { HubError } from '../errors.js'
import type { AcceptResult } from './store.js'
import type { MessageEvent, MessageMeta, MessageState, Receipt, StoredMessage } from './types.js'

/** The state an event leads to. */
export function nextState (current: MessageState, ev: MessageEvent['type']): MessageState {
  switch (ev) {
    case 'delivered': return 'delivered'
    case 'in-mailbox': return 'in-mailbox'
    case 'acked': return 'acked'
    case 'dead-lettered': return 'dead-lettered'
    case 'replayed': return 'queued'
    default: return current
  }
}

/**
 * A message as it is right after acceptance. Written out member by member: an object spread of
 * the metadata made an object of ~720 bytes where this one takes ~250, and every message in flight
 * has one (the optional members are always there, undefined when absent, so every message has the
 * same shape).
 */
export function newMessage (meta: MessageMeta, receipt: Receipt, seal: string): StoredMessage {
  return {
    messageId: meta.messageId,
    sender: meta.sender,
    receiver: meta.receiver,
    documentType: meta.documentType,
    documentVersion: meta.documentVersion,
    contentType: meta.contentType,
    digest: meta.digest,
    size: meta.size,
    receivedAt: meta.receivedAt,
    conversationId: meta.conversationId,
    inReplyTo: meta.inReplyTo,
    senderSignature: meta.senderSignature,
    signedBy: meta.signedBy,
    state: 'queued',
    attempts: 0,
    events: [{ type: 'accepted', at: meta.receivedAt }],
    receipt,
    deliveredReceipt: undefined,
    seal
  }
}

/** Applies one event to a message in place: the one state machine both stores use. */
export function applyEvent (m: StoredMessage, event: MessageEvent, deliveredReceipt?: Receipt): void {
  m.events.push(event)
  m.state = nextState(m.state, event.type)
  if (event.attempt !== undefined) m.attempts = Math.max(m.attempts, event.attempt)
  if (event.type === 'replayed') m.attempts = 0
  if (deliveredReceipt !== undefined) m.deliveredReceipt = deliveredReceipt
}

/**
 * The `deliveredAt` of the delivered receipt a message owes its sender: the time of its last
 * `delivered` or `acked` event, or undefined before either. A push delivery records no receipt
 * (nobody is waiting for one then); the receipt is signed for this time when first asked for and
 * kept with {@link keepReceipt}. An acknowledgement records its receipt with the event.
 */
export function deliveredReceiptDue (m: StoredMessage): string | undefined {
  for (let i = m.events.length - 1; i >= 0; i--) {
    const e = m.events[i]
    if (e.type === 'delivered' || e.type === 'acked') return e.at
  }
  return undefined
}

/**
 * The delivered receipt the message holds for the delivery at `deliveredAt` or a later one, if
 * any. `deliveredAt` is an ISO 8601 UTC time, so comparing the strings compares the times. The
 * Redis store's script applies the same rule.
 */
export function receiptFor (m: StoredMessage, deliveredAt: string): Receipt | undefined {
  const held = m.deliveredReceipt
  return held !== undefined && (held.deliveredAt ?? '') >= deliveredAt ? held : undefined
}

/**
 * Keeps a delivered receipt signed after the fact, unless the message holds one for the same or a
 * later delivery ({@link receiptFor}): the first one kept is the one every reader gets, and a late
 * one for an earlier delivery (a replay delivered again meanwhile) never replaces the newer.
 */
export function keepReceipt (m: StoredMessage, r: Receipt): void {
  if (receiptFor(m, r.deliveredAt ?? '') === undefined) m.deliveredReceipt = r
}

/**
 * A receipt with its signature: the unsigned members in their order, then `signature`. Written out
 * for the same reason as {@link newMessage}: `{ ...unsigned, signature }` made a ~480-byte object
 * of what takes ~110, and a queued message holds its receipt.
 */
export function withSignature (u: Omit<Receipt, 'signature'>, signature: string): Receipt {
  // A delivered receipt says when; the member is absent from an accepted one, not undefined.
  return u.deliveredAt === undefined
    ? { messageId: u.messageId, status: u.status, sender: u.sender, receiver: u.receiver, documentType: u.documentType, documentVersion: u.documentVersion, receivedAt: u.receivedAt, digest: u.digest, trail: u.trail, signature }
    : { messageId: u.messageId, status: u.status, sender: u.sender, receiver: u.receiver, documentType: u.documentType, documentVersion: u.documentVersion, receivedAt: u.receivedAt, digest: u.digest, trail: u.trail, deliveredAt: u.deliveredAt, signature }
}

export function storeKey (sender: string, messageId: string): string {
  // join makes one flat string; a concatenation would keep a rope and, once hashed, a flat copy too.
  return [sender, messageId].join('\u0000')
}

/** A message already stored, for an accept of the same id: the same bytes are a duplicate, other bytes a conflict. */
export function asDuplicate (msg: StoredMessage, digest: string): AcceptResult {
  if (msg.digest !== digest) {
    throw new HubError('EGIF_ERR_IDEMPOTENCY_CONFLICT', `message id ${msg.messageId} was accepted at ${msg.receivedAt} with digest ${msg.digest}; this request has ${digest}`, { originalDigest: msg.digest })
  }
  return { message: msg, duplicate: true }
}

/**
 * The accepts under way in one process, by message (`<sender>/<id>`), one at a time each: an
 * accept of a message already under way waits for that one and answers as a duplicate of what it
 * stored (or a conflict), so only the first makes a receipt, a seal and an `accepted` record. If
 * the one under way failed, the next tries for itself.
 */
export class AcceptsUnderWay {
  private readonly underWay = new Map<string, Promise<AcceptResult>>()

  async run (key: string, digest: string, accept: () => Promise<AcceptResult>): Promise<AcceptResult> {
    for (let first = this.underWay.get(key); first !== undefined; first = this.underWay.get(key)) {
      const stored = await first.then((r) => r.message, () => undefined)
      if (stored !== undefined) return asDuplicate(stored, digest)
      if (this.underWay.get(key) === first) this.underWay.delete(key)
    }
    const work = accept()
    this.underWay.set(key, work)
    try {
      return await work
    } finally {
      if (this.underWay.get(key) === work) this.underWay.delete(key)
    }
  }
}

/** Work for one key at a time, in call order; work for other keys runs alongside. */
export class OneAtATime {
  private readonly last = new Map<string, Promise<void>>()

  async run<T> (key: string, work: () => Promise<T>): Promise<T> {
    const before = this.last.get(key)
    let done!: () => void
    const mine = new Promise<void>((resolve) => { done = resolve })
    this.last.set(key, mine)
    try {
      await before
      return await work()
    } finally {
      done()
      if (this.last.get(key) === mine) this.last.delete(key)
    }
  }
}

/** An event written only in one state (`AddEventOptions.onlyIn`), for a message in another. */
export function notIn (wanted: MessageState, sender: string, messageId: string, state: MessageState): HubError {
  return new HubError('EGIF_ERR_NOT_FOUND', `message ${messageId} from ${sender} is not ${wanted} (state ${state})`, { state })
}
