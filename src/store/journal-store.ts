import { join } from 'node:path'
import { HubError } from '../errors.js'
import { Journal, type JournalOptions, type PayloadLocation } from './journal.js'
import type { JournalRecord, MessageEvent, MessageMeta, MessageState, Receipt, StoredMessage } from './types.js'

interface Entry {
  msg: StoredMessage
  body: PayloadLocation | null
}

const FINAL: ReadonlySet<MessageState> = new Set(['delivered', 'acked', 'dead-lettered'])

function keyOf (sender: string, messageId: string): string {
  return `${sender}\u0000${messageId}`
}

/** The state an event leads to. */
function nextState (current: MessageState, ev: MessageEvent['type']): MessageState {
  switch (ev) {
    case 'delivered': return 'delivered'
    case 'in-mailbox': return 'in-mailbox'
    case 'acked': return 'acked'
    case 'dead-lettered': return 'dead-lettered'
    case 'replayed': return 'queued'
    default: return current
  }
}

export interface AcceptResult {
  message: StoredMessage
  /** True when the same id and bytes were accepted before: the caller answers 200 with the original receipt. */
  duplicate: boolean
}

/**
 * The embedded durable store: messages, their events and bodies in a journal in the data
 * directory; state rebuilt from the journal at start. `accept` resolves only once the message is on
 * disk, which is what lets the hub answer 202.
 */
export class MessageStore {
  private readonly entries = new Map<string, Entry>()
  private readonly byId = new Map<string, string[]>()
  private readonly inFlight = new Map<string, Promise<AcceptResult>>()
  private journal!: Journal<JournalRecord>
  /**
   * Sequence number of the next record. Taken when a record is handed to the journal, which keeps
   * records in call order, so the numbers rise along the log (a failed write leaves a gap).
   */
  private seq = 0
  private rejections = 0

  private constructor (readonly logName: string) {}

  static async open (dataDir: string, opts: JournalOptions & { logName?: string } = {}): Promise<MessageStore> {
    const store = new MessageStore(opts.logName ?? 'embedded')
    store.journal = await Journal.open<JournalRecord>(join(dataDir, 'journal'), (e) => { store.apply(e.header, e.payload) }, opts)
    return store
  }

  private apply (rec: JournalRecord, payload: PayloadLocation | null): void {
    this.seq = Math.max(this.seq, rec.seq + 1)
    if (rec.t === 'accepted') {
      const msg: StoredMessage = { ...rec.meta, state: 'queued', attempts: 0, events: [{ type: 'accepted', at: rec.meta.receivedAt }], receipt: rec.receipt, seal: rec.seal }
      const key = keyOf(msg.sender, msg.messageId)
      this.entries.set(key, { msg, body: payload })
      const list = this.byId.get(msg.messageId)
      if (list === undefined) this.byId.set(msg.messageId, [key])
      else list.push(key)
    } else if (rec.t === 'event') {
      const entry = this.entries.get(keyOf(rec.sender, rec.messageId))
      if (entry === undefined) return
      const m = entry.msg
      m.events.push(rec.event)
      m.state = nextState(m.state, rec.event.type)
      if (rec.event.attempt !== undefined) m.attempts = Math.max(m.attempts, rec.event.attempt)
      if (rec.event.type === 'replayed') m.attempts = 0
      if (rec.deliveredReceipt !== undefined) m.deliveredReceipt = rec.deliveredReceipt
    } else {
      this.rejections++
    }
  }

  get (sender: string, messageId: string): StoredMessage | undefined {
    return this.entries.get(keyOf(sender, messageId))?.msg
  }

  /** Every message with this id, whichever sender chose it. */
  withId (messageId: string): StoredMessage[] {
    return (this.byId.get(messageId) ?? []).map((k) => this.entries.get(k)?.msg).filter((m): m is StoredMessage => m !== undefined)
  }

  /**
   * Stores a new message durably, or recognises a duplicate. Concurrent calls for the same sender
   * and id are serialised, so exactly one of them stores the message.
   *
   * @param makeRecord builds the receipt and seal once the trail position is known.
   * @throws HubError EGIF_ERR_IDEMPOTENCY_CONFLICT (same id, other bytes), EGIF_ERR_STORAGE_UNAVAILABLE
   */
  async accept (meta: MessageMeta, body: Uint8Array, makeRecord: (trail: Receipt['trail']) => { receipt: Receipt, seal: string }): Promise<AcceptResult> {
    const key = keyOf(meta.sender, meta.messageId)
    const pending = this.inFlight.get(key)
    if (pending !== undefined) {
      const first = await pending
      return this.asDuplicate(first.message, meta.digest)
    }
    const existing = this.entries.get(key)
    if (existing !== undefined) return this.asDuplicate(existing.msg, meta.digest)

    const work = (async (): Promise<AcceptResult> => {
      const seq = this.seq++
      const { receipt, seal } = makeRecord({ log: this.logName, index: seq })
      const rec: JournalRecord = { t: 'accepted', seq, meta, receipt, seal }
      const loc = await this.journal.append(rec, body)
      this.apply(rec, loc)
      return { message: this.entries.get(key)!.msg, duplicate: false }
    })()
    this.inFlight.set(key, work)
    try {
      return await work
    } finally {
      this.inFlight.delete(key)
    }
  }

  private asDuplicate (msg: StoredMessage, digest: string): AcceptResult {
    if (msg.digest !== digest) {
      throw new HubError('EGIF_ERR_IDEMPOTENCY_CONFLICT', `message id ${msg.messageId} was accepted at ${msg.receivedAt} with digest ${msg.digest}; this request has ${digest}`, { originalDigest: msg.digest })
    }
    return { message: msg, duplicate: true }
  }

  /** Appends an event and applies it. Resolves once it is on disk. */
  async addEvent (sender: string, messageId: string, event: MessageEvent, deliveredReceipt?: Receipt): Promise<StoredMessage> {
    const entry = this.entries.get(keyOf(sender, messageId))
    if (entry === undefined) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
    const rec: JournalRecord = { t: 'event', seq: this.seq++, sender, messageId, event, ...(deliveredReceipt !== undefined ? { deliveredReceipt } : {}) }
    await this.journal.append(rec)
    this.apply(rec, null)
    return entry.msg
  }

  /** Records a refused request (metadata only, never the body). Not awaited by intake. */
  async recordRejection (fields: Omit<Extract<JournalRecord, { t: 'rejected' }>, 't' | 'seq'>): Promise<void> {
    const rec: JournalRecord = { t: 'rejected', seq: this.seq++, ...fields }
    await this.journal.append(rec)
    this.apply(rec, null)
  }

  bodyOf (msg: StoredMessage): Buffer {
    const entry = this.entries.get(keyOf(msg.sender, msg.messageId))
    if (entry === undefined || entry.body === null) return Buffer.alloc(0)
    return this.journal.read(entry.body)
  }

  /** Messages waiting in a participant's mailbox, oldest first. */
  inbox (receiver: string): StoredMessage[] {
    const out: StoredMessage[] = []
    for (const { msg } of this.entries.values()) {
      if (msg.receiver === receiver && msg.state === 'in-mailbox') out.push(msg)
    }
    return out
  }

  /** Messages still to deliver (after a restart these are handed to the queue again). */
  undelivered (): StoredMessage[] {
    const out: StoredMessage[] = []
    for (const { msg } of this.entries.values()) if (msg.state === 'queued') out.push(msg)
    return out
  }

  deadLetters (): StoredMessage[] {
    const out: StoredMessage[] = []
    for (const { msg } of this.entries.values()) if (msg.state === 'dead-lettered') out.push(msg)
    return out
  }

  isFinal (msg: StoredMessage): boolean {
    return FINAL.has(msg.state)
  }

  stats (): { messages: number, rejections: number, records: number } {
    return { messages: this.entries.size, rejections: this.rejections, records: this.seq }
  }

  async close (): Promise<void> {
    await this.journal.close()
  }
}
