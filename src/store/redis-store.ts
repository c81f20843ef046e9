import { Redis, type RedisOptions } from 'ioredis'
import { HubError } from '../errors.js'
import { AcceptsUnderWay, asDuplicate, newMessage, notIn } from './state.js'
import type { AcceptRecord, AcceptResult, AddEventOptions, InboxPage, MessageProgress, MessageStore, RejectionFields } from './store.js'
import type { MessageEvent, MessageMeta, MessageState, Receipt, StoredMessage } from './types.js'

/** The fields a message is read with, in this order (the body is read only by `get`). */
const FIELDS = ['meta', 'receipt', 'seal', 'state', 'attempts', 'delivered', 'events'] as const

/**
 * Accept: store the message unless the sender's id exists; then answer with the stored fields
 * (FIELDS), so that the caller needs no second read to answer 200 or 409.
 * KEYS: message hash, id → senders set, queued set, message counter.
 * ARGV: meta, receipt, seal, body, sender, member, events (the `accepted` event, as a JSON array).
 */
const ACCEPT = `
local found = redis.call('HMGET', KEYS[1], 'meta', 'receipt', 'seal', 'state', 'attempts', 'delivered', 'events')
if found[1] then return found end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'receipt', ARGV[2], 'seal', ARGV[3], 'body', ARGV[4], 'state', 'queued', 'attempts', 0, 'events', ARGV[7])
redis.call('SADD', KEYS[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[6])
redis.call('INCR', KEYS[4])
return false
`

/**
 * Add an event: the same state machine as `applyEvent` (src/store/state.ts), applied atomically
 * beside the indexes (mailbox, dead letters, queued), which change only when the state does. The
 * store contract suite runs both. Answers with the message's fields after the event (FIELDS), or
 * nil when there is no such message.
 *
 * The mailbox key is the receiver's, read from the stored meta inside the script (only when the
 * message enters or leaves the mailbox); its score is the next `seq`. Keys built inside a script
 * are fine on one Redis, which is all the hub supports (not Redis Cluster).
 *
 * Events of messages stored before the events lived in the hash are in a list of their own: the
 * first event added moves them into the hash.
 * KEYS: message hash, legacy events list, dead set, queued set, seq counter.
 * ARGV: event JSON, event type, attempt ('' if none), delivered receipt JSON ('' if none), member,
 * mailbox key prefix, the state the message must be in for the event to be added ('' if any; in
 * another, nothing is written and the answer is the state it is in).
 */
const ADD_EVENT = `
local f = redis.call('HMGET', KEYS[1], 'meta', 'receipt', 'seal', 'state', 'attempts', 'delivered', 'events')
if not f[1] then return false end
if ARGV[7] ~= '' and f[4] ~= ARGV[7] then return f[4] end
local events = f[7]
if not events then
  events = '[' .. table.concat(redis.call('LRANGE', KEYS[2], 0, -1), ',') .. ']'
  redis.call('DEL', KEYS[2])
end
if events == '[]' then events = '[' .. ARGV[1] .. ']' else events = string.sub(events, 1, -2) .. ',' .. ARGV[1] .. ']' end
local t = ARGV[2]
local state = f[4]
local new = state
if t == 'delivered' or t == 'in-mailbox' or t == 'acked' or t == 'dead-lettered' then new = t end
local attempts = tonumber(f[5] or '0')
if ARGV[3] ~= '' and tonumber(ARGV[3]) > attempts then attempts = tonumber(ARGV[3]) end
if t == 'replayed' then
  new = 'queued'
  attempts = 0
end
attempts = tostring(attempts)
local delivered = f[6]
if ARGV[4] ~= '' then
  delivered = ARGV[4]
  redis.call('HSET', KEYS[1], 'state', new, 'attempts', attempts, 'events', events, 'delivered', delivered)
else
  redis.call('HSET', KEYS[1], 'state', new, 'attempts', attempts, 'events', events)
end
if new ~= state then
  if new == 'in-mailbox' or state == 'in-mailbox' then
    local inbox = ARGV[6] .. cjson.decode(f[1]).receiver
    if new == 'in-mailbox' then redis.call('ZADD', inbox, redis.call('INCR', KEYS[5]), ARGV[5]) else redis.call('ZREM', inbox, ARGV[5]) end
  end
  if state == 'dead-lettered' then redis.call('SREM', KEYS[3], ARGV[5]) end
  if new == 'dead-lettered' then redis.call('SADD', KEYS[3], ARGV[5]) end
  if state == 'queued' then redis.call('SREM', KEYS[4], ARGV[5]) end
  if new == 'queued' then redis.call('SADD', KEYS[4], ARGV[5]) end
end
return {f[1], f[2], f[3], new, attempts, delivered or false, events}
`

/**
 * Keep a delivered receipt signed after its delivery: the rule of `keepReceipt`
 * (src/store/state.ts), checked and written in one step so that of two processes signing for the
 * same delivery, the first one's receipt is the one kept. `deliveredAt` is an ISO 8601 UTC time,
 * so comparing the strings compares the times. KEYS: message hash. ARGV: the receipt JSON, its
 * deliveredAt. Answers the receipt kept (JSON), or nil when there is no such message.
 */
const KEEP_RECEIPT = `
local f = redis.call('HMGET', KEYS[1], 'meta', 'delivered')
if not f[1] then return false end
if f[2] then
  local held = cjson.decode(f[2]).deliveredAt
  if type(held) == 'string' and held >= ARGV[2] then return f[2] end
end
redis.call('HSET', KEYS[1], 'delivered', ARGV[1])
return ARGV[1]
`

/**
 * Expire bodies: of the messages given, drop the body of each that is settled and was received
 * before ARGV[1], checked and removed in one step, so that a message replayed meanwhile (queued
 * again) keeps its body. `receivedAt` is an ISO 8601 UTC time, so comparing the strings compares
 * the times. KEYS: message hashes. Answers how many bodies it removed.
 */
const EXPIRE_BODIES = `
local removed = 0
for _, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'meta', 'state')
  if f[1] and (f[2] == 'delivered' or f[2] == 'acked' or f[2] == 'dead-lettered') and cjson.decode(f[1]).receivedAt < ARGV[1] then
    removed = removed + redis.call('HDEL', key, 'body')
  end
end
return removed
`

/** FIELDS as Redis answers them: null where a field is missing. */
type Fields = Array<string | null>

interface RedisStoreCommands {
  egifAccept: (...args: Array<string | Buffer | number>) => Promise<Fields | null>
  egifAddEvent: (...args: Array<string | Buffer | number>) => Promise<Fields | string | null>
  egifExpireBodies: (numberOfKeys: number, ...args: string[]) => Promise<number>
  egifKeepReceipt: (key: string, receipt: string, deliveredAt: string) => Promise<string | null>
}

export interface RedisStoreOptions {
  /** Key prefix shared by every hub process of one cluster. Default `egif`. */
  prefix?: string
}

/** Redis errors (connection lost, read-only replica, out of memory) as the hub reports them: retry later. */
function unavailable (err: unknown): HubError {
  if (err instanceof HubError) return err
  return new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `Redis: ${(err as Error).message}`)
}

/** A message from its stored fields (FIELDS order), or undefined when it is not (fully) there. */
function fromFields (f: Fields, events: string): StoredMessage | undefined {
  const [meta, receipt, seal, state, attempts, delivered] = f
  if (meta === null || receipt === null || seal === null || state === null) return undefined
  return {
    ...JSON.parse(meta) as MessageMeta,
    state: state as MessageState,
    attempts: Number(attempts ?? 0),
    events: JSON.parse(events) as MessageEvent[],
    receipt: JSON.parse(receipt) as Receipt,
    ...(delivered !== null ? { deliveredReceipt: JSON.parse(delivered) as Receipt } : {}),
    seal
  }
}

/**
 * The cluster-mode store: every hub process reads and writes the same Redis, so status, mailbox,
 * idempotency and dead letters agree whichever process is asked. Commands fail fast while Redis is
 * away (no offline queue), so intake answers 503 at once instead of hanging.
 *
 * Keys (one Redis, not Redis Cluster): `<p>:m:<sender>/<id>` hash (meta, receipt, seal, body,
 * state, attempts, delivered, events as one JSON array), `<p>:id:<id>` senders set,
 * `<p>:inbox:<receiver>` zset, `<p>:dead`, `<p>:queued` sets, counters `<p>:seq`, `<p>:count`,
 * `<p>:rejections`, and `<p>:rejected` (the latest 10,000 refusals). Messages stored by earlier
 * versions keep their events in a list `<p>:e:<sender>/<id>` until their next event moves them
 * into the hash; reads understand both.
 *
 * Round trips: a read is one HMGET, `accept` and `addEvent` one script each that answers with the
 * message, so nothing is read again after a write.
 */
export class RedisStore implements MessageStore {
  private readonly p: string
  private readonly redis: Redis & RedisStoreCommands
  /**
   * Bodies read by `get` together with their message, for `bodyOf` of that same object: the
   * delivery worker reads a message, then its body, and the two come in one HMGET. A body never
   * changes once stored, so the copy read with the message is the body.
   */
  private readonly bodies = new WeakMap<StoredMessage, Buffer>()
  private readonly accepting = new AcceptsUnderWay()

  private constructor (redis: Redis, opts: RedisStoreOptions) {
    this.p = opts.prefix ?? 'egif'
    redis.defineCommand('egifAccept', { numberOfKeys: 4, lua: ACCEPT })
    redis.defineCommand('egifAddEvent', { numberOfKeys: 5, lua: ADD_EVENT })
    redis.defineCommand('egifExpireBodies', { lua: EXPIRE_BODIES })
    redis.defineCommand('egifKeepReceipt', { numberOfKeys: 1, lua: KEEP_RECEIPT })
    this.redis = redis as Redis & RedisStoreCommands
  }

  static async open (url: string, opts: RedisStoreOptions = {}, redisOptions: RedisOptions = {}): Promise<RedisStore> {
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      // The reads and scripts of all the requests in one event-loop turn go out in one write: a
      // fraction of the system calls on both sides, and fewer AOF fsyncs in Redis (one per batch).
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      // Reconnect for ever, at most every 2 s: the hub comes back when Redis does.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...redisOptions
    })
    // Errors surface on commands and in readiness; an unhandled 'error' event would end the process.
    redis.on('error', () => {})
    try {
      await redis.connect()
    } catch (err) {
      redis.disconnect()
      throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `cannot connect to Redis at ${url.replace(/\/\/[^@]*@/, '//***@')}: ${(err as Error).message}`)
    }
    return new RedisStore(redis, opts)
  }

  /** The connection, for startup checks. */
  get client (): Redis {
    return this.redis
  }

  private k (kind: string, rest: string): string {
    return `${this.p}:${kind}:${rest}`
  }

  /** The events of a message as a JSON array: from its hash, or from the list earlier versions kept. */
  private async eventsOf (member: string, events: string | null): Promise<string> {
    if (events !== null) return events
    return `[${(await this.redis.lrange(this.k('e', member), 0, -1)).join(',')}]`
  }

  /** Reads the message and its body in one HMGET; `bodyOf` of the result answers without Redis. */
  async get (sender: string, messageId: string): Promise<StoredMessage | undefined> {
    const member = `${sender}/${messageId}`
    try {
      const raw = await this.redis.hmgetBuffer(this.k('m', member), ...FIELDS, 'body')
      const f = raw.slice(0, FIELDS.length).map((b) => b === null ? null : b.toString())
      if (f[0] === null) return undefined
      const m = fromFields(f, await this.eventsOf(member, f[6]))
      if (m !== undefined) this.bodies.set(m, raw[FIELDS.length] ?? Buffer.alloc(0))
      return m
    } catch (err) {
      throw unavailable(err)
    }
  }

  /** Two fields of the hash, where `get` would read it all with the body. */
  async progress (sender: string, messageId: string): Promise<MessageProgress | undefined> {
    try {
      const [state, attempts] = await this.redis.hmget(this.k('m', `${sender}/${messageId}`), 'state', 'attempts')
      return state === null ? undefined : { state: state as MessageState, attempts: Number(attempts ?? 0) }
    } catch (err) {
      throw unavailable(err)
    }
  }

  /** Messages without their bodies (listings, sweeps), one HMGET each, sent together. */
  private async getMany (members: string[]): Promise<StoredMessage[]> {
    const all = await Promise.all(members.map(async (member) => {
      const f = await this.redis.hmget(this.k('m', member), ...FIELDS)
      return f[0] === null ? undefined : fromFields(f, await this.eventsOf(member, f[6]))
    }))
    return all.filter((m): m is StoredMessage => m !== undefined)
  }

  async withId (messageId: string): Promise<StoredMessage[]> {
    try {
      const senders = await this.redis.smembers(this.k('id', messageId))
      return await this.getMany(senders.sort().map((s) => `${s}/${messageId}`))
    } catch (err) {
      throw unavailable(err)
    }
  }

  async accept (meta: MessageMeta, body: Uint8Array, makeRecord: () => Promise<AcceptRecord>): Promise<AcceptResult> {
    const member = `${meta.sender}/${meta.messageId}`
    return await this.accepting.run(member, meta.digest, async () => await this.acceptNew(member, meta, body, makeRecord))
  }

  private async acceptNew (member: string, meta: MessageMeta, body: Uint8Array, makeRecord: () => Promise<AcceptRecord>): Promise<AcceptResult> {
    try {
      // Another process may have stored this id since intake looked: then the script answers
      // with the stored message instead (`duplicate`, although the record was made), and the
      // caller answers 200 (or 409).
      const { receipt, seal } = await makeRecord()
      const accepted: MessageEvent = { type: 'accepted', at: meta.receivedAt }
      const existing = await this.redis.egifAccept(
        this.k('m', member), this.k('id', meta.messageId), `${this.p}:queued`, `${this.p}:count`,
        JSON.stringify(meta), JSON.stringify(receipt), seal, Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        meta.sender, member, JSON.stringify([accepted])
      )
      // Stored now: the message is what was just written.
      if (existing === null) return { message: newMessage(meta, receipt, seal), duplicate: false }
      const stored = fromFields(existing, await this.eventsOf(member, existing[6]))
      if (stored === undefined) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `message ${member} is stored incompletely`)
      return asDuplicate(stored, meta.digest)
    } catch (err) {
      throw unavailable(err)
    }
  }

  async addEvent (sender: string, messageId: string, event: MessageEvent, deliveredReceipt?: Receipt, opts: AddEventOptions = {}): Promise<StoredMessage> {
    const member = `${sender}/${messageId}`
    let after: Fields | string | null
    try {
      after = await this.redis.egifAddEvent(
        this.k('m', member), this.k('e', member), `${this.p}:dead`, `${this.p}:queued`, `${this.p}:seq`,
        JSON.stringify(event), event.type, event.attempt ?? '', deliveredReceipt !== undefined ? JSON.stringify(deliveredReceipt) : '', member, this.k('inbox', ''),
        opts.onlyIn ?? ''
      )
    } catch (err) {
      throw unavailable(err)
    }
    if (typeof after === 'string') throw notIn(opts.onlyIn!, sender, messageId, after as MessageState)
    const m = after === null ? undefined : fromFields(after, after[6]!)
    if (m === undefined) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
    return m
  }

  async keepDeliveredReceipt (sender: string, messageId: string, receipt: Receipt): Promise<Receipt> {
    let kept: string | null
    try {
      kept = await this.redis.egifKeepReceipt(this.k('m', `${sender}/${messageId}`), JSON.stringify(receipt), receipt.deliveredAt ?? '')
    } catch (err) {
      throw unavailable(err)
    }
    if (kept === null) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
    return JSON.parse(kept) as Receipt
  }

  async recordRejection (fields: RejectionFields): Promise<void> {
    try {
      await this.redis.multi()
        .incr(`${this.p}:rejections`)
        .lpush(`${this.p}:rejected`, JSON.stringify(fields))
        .ltrim(`${this.p}:rejected`, 0, 9999)
        .exec()
    } catch (err) {
      throw unavailable(err)
    }
  }

  async bodyOf (msg: StoredMessage): Promise<Buffer> {
    const read = this.bodies.get(msg)
    if (read !== undefined) return read
    try {
      return (await this.redis.hgetBuffer(this.k('m', `${msg.sender}/${msg.messageId}`), 'body')) ?? Buffer.alloc(0)
    } catch (err) {
      throw unavailable(err)
    }
  }

  async inbox (receiver: string, page: { after?: string, limit?: number } = {}): Promise<InboxPage> {
    const limit = page.limit ?? 100
    try {
      const min = page.after !== undefined ? `(${page.after}` : '-inf'
      const rows = await this.redis.zrangebyscore(this.k('inbox', receiver), min, '+inf', 'WITHSCORES', 'LIMIT', 0, limit + 1)
      const members: string[] = []
      const scores: string[] = []
      for (let i = 0; i < rows.length; i += 2) {
        members.push(rows[i])
        scores.push(rows[i + 1])
      }
      const more = members.length > limit
      const messages = await this.getMany(members.slice(0, limit))
      return { messages, ...(more ? { next: scores[limit - 1] } : {}) }
    } catch (err) {
      throw unavailable(err)
    }
  }

  async expireBodies (before: Date): Promise<number> {
    let removed = 0
    try {
      let cursor = '0'
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.p}:m:*`, 'COUNT', 500)
        cursor = next
        if (keys.length > 0) removed += await this.redis.egifExpireBodies(keys.length, ...keys, before.toISOString())
      } while (cursor !== '0')
    } catch (err) {
      throw unavailable(err)
    }
    return removed
  }

  async undelivered (): Promise<StoredMessage[]> {
    try {
      return await this.getMany(await this.redis.smembers(`${this.p}:queued`))
    } catch (err) {
      throw unavailable(err)
    }
  }

  async deadLetters (): Promise<StoredMessage[]> {
    try {
      return await this.getMany((await this.redis.smembers(`${this.p}:dead`)).sort())
    } catch (err) {
      throw unavailable(err)
    }
  }

  ready (): boolean {
    return this.redis.status === 'ready'
  }

  async stats (): Promise<{ messages: number, rejections: number }> {
    try {
      const [messages, rejections] = await this.redis.mget(`${this.p}:count`, `${this.p}:rejections`)
      return { messages: Number(messages ?? 0), rejections: Number(rejections ?? 0) }
    } catch (err) {
      throw unavailable(err)
    }
  }

  async close (): Promise<void> {
    try {
      await this.redis.quit()
    } catch {
      this.redis.disconnect()
    }
  }
}
