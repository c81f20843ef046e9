import { join } from 'node:path'
import { HubError } from '../errors.js'
import { Journal, type Appended, type FrameLocation, type JournalOptions, type PayloadLocation } from './journal.js'
import { AcceptsUnderWay, OneAtATime, applyEvent, asDuplicate, notIn, keepReceipt, newMessage, nextState, receiptFor, storeKey } from './state.js'
import type { AcceptRecord, AcceptResult, AddEventOptions, InboxPage, MessageProgress, MessageStore, RejectionFields } from './store.js'
import type { JournalRecord, MessageEvent, MessageMeta, Receipt, StoredMessage } from './types.js'
import type { WriteOptions } from './flush-schedule.js'

const SETTLED: ReadonlySet<string> = new Set(['delivered', 'acked', 'dead-lettered'])

/**
 * What the store keeps of one message. While it is waiting (queued, in a mailbox) the whole
 * message is at hand; once it is settled only what the store itself needs stays in memory, and the
 * rest (receipts, seal, events) is read back from its records in the journal when asked for. A
 * settled message costs a few hundred bytes, not kilobytes: the journal is the copy. Locations are
 * packed into single numbers (see {@link pack}) and the receiver's id is shared between messages,
 * because a hub holds one of these for every message it ever accepted.
 */
interface Entry {
  /** The whole message; undefined once it is settled (`rebuild` reads it back). */
  msg: StoredMessage | undefined
  state: StoredMessage['state']
  /** When it was received, in whole seconds since 1970 (what body expiry compares). */
  receivedSec: number
  receiver: string
  /** Where its body is in the journal ({@link pack}), or -1 when it has none (or it expired). */
  bodyAt: number
  bodyLength: number
  /** The body itself while the message waits for delivery, so the worker need not read it back. */
  held: Buffer | undefined
  /** Its records in the journal, in order: the accepted record, then every event ({@link pack}). */
  records: number[]
}

/**
 * A place in the journal as one number: segment × 2³² + offset (exact while segments number fewer
 * than 2²¹). An array of these is an array of unboxed doubles, a tenth of the size of as many
 * `{ segment, offset }` objects.
 */
function pack (segment: number, offset: number): number {
  return segment * 0x1_0000_0000 + offset
}

function segmentOf (packed: number): number {
  return Math.floor(packed / 0x1_0000_0000)
}

function frameAt (packed: number): FrameLocation {
  return { segment: segmentOf(packed), offset: packed % 0x1_0000_0000 }
}

/** Bodies held in memory for delivery, at most (beyond it they are read back from the journal). */
const HELD_BYTES = 64 * 1024 * 1024

/**
 * The embedded store: messages, their events and bodies in a journal in the data directory; the
 * state rebuilt from the journal at start. `accept` resolves only once the message is on disk,
 * which is what lets the hub answer 202.
 */
export class JournalStore implements MessageStore {
  private readonly entries = new Map<string, Entry>()
  /** Message id → the key of the one message with it, or the keys when several senders used it. */
  private readonly byId = new Map<string, string | string[]>()
  /** One string per receiver id, shared by all their entries. */
  private readonly receivers = new Map<string, string>()
  /**
   * Mailboxes in arrival order: message key → sequence number of its in-mailbox record (the
   * listing cursor, which stays meaningful when messages before it are acknowledged).
   */
  private readonly mailboxes = new Map<string, Map<string, number>>()
  private readonly accepting = new AcceptsUnderWay()
  private readonly conditional = new OneAtATime()
  private journal!: Journal<JournalRecord>
  /**
   * Sequence number of the next record. Taken when a record is handed to the journal, which keeps
   * records in call order, so the numbers rise along the log (a failed write leaves a gap).
   */
  private seq = 0
  private rejections = 0
  private writable = true
  private heldBytes = 0
  /** While the journal is read at start, every message stays whole (nothing can be read back yet). */
  private loading = true

  private constructor () {}

  static async open (dataDir: string, opts: JournalOptions = {}): Promise<JournalStore> {
    const store = new JournalStore()
    store.journal = await Journal.open<JournalRecord>(join(dataDir, 'journal'), (e) => { store.apply(e.header, e.payload, e.frame) }, opts)
    store.loading = false
    for (const e of store.entries.values()) if (SETTLED.has(e.state)) e.msg = undefined
    return store
  }

  /** Applies a record; returns the message it changed when that message is at hand. */
  private apply (rec: JournalRecord, payload: PayloadLocation | null, frame: FrameLocation): StoredMessage | undefined {
    this.seq = Math.max(this.seq, rec.seq + 1)
    if (rec.t === 'accepted') {
      const msg = newMessage(rec.meta, rec.receipt, rec.seal)
      const key = storeKey(msg.sender, msg.messageId)
      let receiver = this.receivers.get(msg.receiver)
      if (receiver === undefined) this.receivers.set(msg.receiver, receiver = msg.receiver)
      this.entries.set(key, {
        msg,
        state: msg.state,
        receivedSec: Math.floor(Date.parse(msg.receivedAt) / 1000),
        receiver,
        bodyAt: payload === null ? -1 : pack(payload.segment, payload.offset),
        bodyLength: payload === null ? 0 : payload.length,
        held: undefined,
        records: [pack(frame.segment, frame.offset)]
      })
      const ids = this.byId.get(msg.messageId)
      if (ids === undefined) this.byId.set(msg.messageId, key)
      else if (typeof ids === 'string') this.byId.set(msg.messageId, [ids, key])
      else ids.push(key)
      return msg
    } else if (rec.t === 'event') {
      const key = storeKey(rec.sender, rec.messageId)
      const entry = this.entries.get(key)
      if (entry === undefined) return undefined
      // A new array of the exact length: push would leave room for 16 more, for every message.
      entry.records = entry.records.concat(pack(frame.segment, frame.offset))
      // A settled message is only woken up again by a replay; its other events need no whole message.
      const msg = entry.msg ?? (rec.event.type === 'replayed' ? this.rebuild(entry, entry.records.length - 1) : undefined)
      if (msg !== undefined) {
        applyEvent(msg, rec.event, rec.deliveredReceipt)
        entry.state = msg.state
      } else {
        entry.state = nextState(entry.state, rec.event.type)
      }
      if (entry.held !== undefined && entry.state !== 'queued') {
        this.heldBytes -= entry.held.length
        entry.held = undefined
      }
      let box = this.mailboxes.get(entry.receiver)
      if (entry.state === 'in-mailbox') {
        if (box === undefined) this.mailboxes.set(entry.receiver, box = new Map())
        if (!box.has(key)) box.set(key, rec.seq)
      } else {
        box?.delete(key)
      }
      entry.msg = SETTLED.has(entry.state) && !this.loading ? undefined : msg
      return msg
    } else if (rec.t === 'receipt') {
      const entry = this.entries.get(storeKey(rec.sender, rec.messageId))
      if (entry === undefined) return undefined
      entry.records = entry.records.concat(pack(frame.segment, frame.offset))
      if (entry.msg !== undefined) keepReceipt(entry.msg, rec.deliveredReceipt)
      return entry.msg
    }
    this.rejections++
    return undefined
  }

  /** The whole message, from memory or rebuilt from its first `upTo` records (default: all of them). */
  private messageOf (entry: Entry): StoredMessage {
    return entry.msg ?? this.rebuild(entry, entry.records.length)
  }

  private rebuild (entry: Entry, upTo: number): StoredMessage {
    let msg: StoredMessage | undefined
    for (let i = 0; i < upTo; i++) {
      const rec = this.journal.readHeader(frameAt(entry.records[i]))
      if (rec.t === 'accepted') msg = newMessage(rec.meta, rec.receipt, rec.seal)
      else if (rec.t === 'event' && msg !== undefined) applyEvent(msg, rec.event, rec.deliveredReceipt)
      else if (rec.t === 'receipt' && msg !== undefined) keepReceipt(msg, rec.deliveredReceipt)
    }
    if (msg === undefined) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', 'a message\'s accepted record cannot be read back from the journal')
    return msg
  }

  async get (sender: string, messageId: string): Promise<StoredMessage | undefined> {
    const entry = this.entries.get(storeKey(sender, messageId))
    return entry === undefined ? undefined : this.messageOf(entry)
  }

  async progress (sender: string, messageId: string): Promise<MessageProgress | undefined> {
    const entry = this.entries.get(storeKey(sender, messageId))
    if (entry === undefined) return undefined
    // A message still moving is whole in memory; a settled one is read back for its attempts.
    return { state: entry.state, attempts: this.messageOf(entry).attempts }
  }

  async withId (messageId: string): Promise<StoredMessage[]> {
    const ids = this.byId.get(messageId)
    const keys = ids === undefined ? [] : typeof ids === 'string' ? [ids] : ids
    return keys.flatMap((k) => {
      const entry = this.entries.get(k)
      return entry === undefined ? [] : [this.messageOf(entry)]
    })
  }

  /** Concurrent calls for one sender and id are serialised, so exactly one of them stores the message. */
  async accept (meta: MessageMeta, body: Uint8Array, makeRecord: () => Promise<AcceptRecord>): Promise<AcceptResult> {
    const key = storeKey(meta.sender, meta.messageId)
    return await this.accepting.run(key, meta.digest, async () => {
      const existing = this.entries.get(key)
      if (existing !== undefined) return asDuplicate(this.messageOf(existing), meta.digest)
      const { receipt, seal } = await makeRecord()
      // Taken when the record goes to the journal, so sequence numbers rise along the log.
      const rec: JournalRecord = { t: 'accepted', seq: this.seq++, meta, receipt, seal }
      const appended = await this.append(rec, body)
      this.apply(rec, appended.payload, appended.frame)
      const entry = this.entries.get(key)!
      if (this.heldBytes + body.length <= HELD_BYTES) {
        entry.held = heldCopy(body)
        this.heldBytes += body.length
      }
      return { message: this.messageOf(entry), duplicate: false }
    })
  }

  private async append (rec: JournalRecord, body?: Uint8Array, opts?: WriteOptions): Promise<Appended> {
    try {
      const appended = await this.journal.appendRecord(rec, body, opts)
      this.writable = true
      return appended
    } catch (err) {
      this.writable = false
      throw err
    }
  }

  async addEvent (sender: string, messageId: string, event: MessageEvent, deliveredReceipt?: Receipt, opts: AddEventOptions = {}): Promise<StoredMessage> {
    const key = storeKey(sender, messageId)
    const add = async (): Promise<StoredMessage> => {
      const entry = this.entries.get(key)
      if (entry === undefined) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
      if (opts.onlyIn !== undefined && entry.state !== opts.onlyIn) throw notIn(opts.onlyIn, sender, messageId, entry.state)
      const rec: JournalRecord = { t: 'event', seq: this.seq++, sender, messageId, event, ...(deliveredReceipt !== undefined ? { deliveredReceipt } : {}) }
      const { frame } = await this.append(rec, undefined, opts)
      return this.apply(rec, null, frame) ?? this.messageOf(entry)
    }
    // A conditional event is checked once the one before it for the same message is written.
    return opts.onlyIn === undefined ? await add() : await this.conditional.run(key, add)
  }

  async keepDeliveredReceipt (sender: string, messageId: string, receipt: Receipt): Promise<Receipt> {
    const entry = this.entries.get(storeKey(sender, messageId))
    if (entry === undefined) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
    const held = receiptFor(this.messageOf(entry), receipt.deliveredAt ?? '')
    if (held !== undefined) return held
    const rec: JournalRecord = { t: 'receipt', seq: this.seq++, sender, messageId, deliveredReceipt: receipt }
    const { frame } = await this.append(rec)
    this.apply(rec, null, frame)
    // Another request may have kept one for the same delivery while this one was written: the
    // first record in the journal wins, as it will when the journal is read at the next start.
    return this.messageOf(entry).deliveredReceipt ?? receipt
  }

  async recordRejection (fields: RejectionFields): Promise<void> {
    const rec: JournalRecord = { t: 'rejected', seq: this.seq++, ...fields }
    const { frame } = await this.append(rec)
    this.apply(rec, null, frame)
  }

  async bodyOf (msg: StoredMessage): Promise<Buffer> {
    const entry = this.entries.get(storeKey(msg.sender, msg.messageId))
    if (entry === undefined) return Buffer.alloc(0)
    if (entry.held !== undefined) return entry.held
    if (entry.bodyAt < 0) return Buffer.alloc(0)
    const { segment, offset } = frameAt(entry.bodyAt)
    return this.journal.read({ segment, offset, length: entry.bodyLength })
  }

  async inbox (receiver: string, page: { after?: string, limit?: number } = {}): Promise<InboxPage> {
    const limit = page.limit ?? 100
    const after = page.after !== undefined ? Number(page.after) : -1
    const out: StoredMessage[] = []
    let last = -1
    let more = false
    for (const [key, seq] of this.mailboxes.get(receiver) ?? []) {
      if (seq <= after) continue
      if (out.length === limit) {
        more = true
        break
      }
      out.push(this.messageOf(this.entries.get(key)!))
      last = seq
    }
    return { messages: out, ...(more ? { next: String(last) } : {}) }
  }

  async expireBodies (before: Date): Promise<number> {
    const current = this.journal.currentSegment
    const bySegment = new Map<number, Entry[]>()
    for (const e of this.entries.values()) {
      if (e.bodyAt < 0) continue
      const segment = segmentOf(e.bodyAt)
      if (segment >= current) continue
      const list = bySegment.get(segment)
      if (list === undefined) bySegment.set(segment, [e])
      else list.push(e)
    }
    // Received before the cutoff: the whole second it was received in is before it.
    const cutoffSec = Math.floor(before.getTime() / 1000)
    let removed = 0
    for (const [segment, list] of [...bySegment].sort((a, b) => a[0] - b[0])) {
      if (!list.every((e) => SETTLED.has(e.state) && e.receivedSec < cutoffSec)) continue
      const moved = await this.journal.dropPayloads(segment, (h) => h.t === 'accepted')
      for (const e of list) {
        e.bodyAt = -1
        e.bodyLength = 0
      }
      // The rewritten segment's frames moved: every record of it is found at its new offset.
      const lo = pack(segment, 0)
      const hi = pack(segment + 1, 0)
      for (const e of this.entries.values()) {
        const r = e.records
        for (let i = 0; i < r.length; i++) {
          if (r[i] < lo || r[i] >= hi) continue
          const offset = r[i] - lo
          r[i] = lo + (moved.get(offset) ?? offset)
        }
      }
      removed += list.length
    }
    return removed
  }

  async undelivered (): Promise<StoredMessage[]> {
    const out: StoredMessage[] = []
    for (const e of this.entries.values()) if (e.state === 'queued') out.push(this.messageOf(e))
    return out
  }

  async deadLetters (): Promise<StoredMessage[]> {
    const out: StoredMessage[] = []
    for (const e of this.entries.values()) if (e.state === 'dead-lettered') out.push(this.messageOf(e))
    return out
  }

  ready (): boolean {
    return this.writable
  }

  async stats (): Promise<{ messages: number, rejections: number }> {
    return { messages: this.entries.size, rejections: this.rejections }
  }

  async close (): Promise<void> {
    await this.journal.close()
  }
}

/**
 * The body to keep for delivery. A body that is all of its buffer is kept as it is (a request
 * body of a few KB or more is its own allocation); a view into a larger buffer (a small body
 * shares a slab of Node's buffer pool) is copied, so that it does not keep the rest alive.
 */
function heldCopy (body: Uint8Array): Buffer {
  if (body.byteOffset === 0 && body.byteLength === body.buffer.byteLength) {
    return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, 0, body.byteLength)
  }
  return Buffer.from(body)
}
