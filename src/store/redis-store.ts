import { Redis, type RedisOptions } from 'ioredis'
import { HubError } from '../errors.js'
import { asDuplicate } from './journal-store.js'
import type { AcceptRecord, AcceptResult, InboxPage, MessageStore, RejectionFields } from './store.js'
import type { MessageEvent, MessageMeta, MessageState, Receipt, StoredMessage } from './types.js'

/**
 * Accept: store the message unless the sender's id exists (then return the stored meta).
 * KEYS: message hash, events list, id → senders set, queued set, message counter.
 */
const ACCEPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGET', KEYS[1], 'meta') end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'receipt', ARGV[2], 'seal', ARGV[3], 'body', ARGV[4], 'state', 'queued', 'attempts', 0)
redis.call('RPUSH', KEYS[2], ARGV[7])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('SADD', KEYS[4], ARGV[6])
redis.call('INCR', KEYS[5])
return false
`

/**
 * Add an event: the same state machine as `applyEvent` (src/store/state.ts), applied atomically
 * beside the indexes (mailbox, dead letters, queued). The store contract suite runs both.
 * KEYS: message hash, events list, mailbox zset, dead set, queued set.
 * ARGV: event JSON, event type, attempt ('' if none), delivered receipt JSON ('' if none), member, mailbox score.
 */
const ADD_EVENT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
local t = ARGV[2]
local state = redis.call('HGET', KEYS[1], 'state')
local new = state
if t == 'delivered' or t == 'in-mailbox' or t == 'acked' or t == 'dead-lettered' then new = t end
if ARGV[3] ~= '' then
  local a = tonumber(ARGV[3])
  if a > tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') then redis.call('HSET', KEYS[1], 'attempts', a) end
end
if t == 'replayed' then
  new = 'queued'
  redis.call('HSET', KEYS[1], 'attempts', 0)
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'delivered', ARGV[4]) end
redis.call('HSET', KEYS[1], 'state', new)
if new == 'in-mailbox' then
  if state ~= 'in-mailbox' then redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5]) end
else
  redis.call('ZREM', KEYS[3], ARGV[5])
end
if new == 'dead-lettered' then redis.call('SADD', KEYS[4], ARGV[5]) else redis.call('SREM', KEYS[4], ARGV[5]) end
if new == 'queued' then redis.call('SADD', KEYS[5], ARGV[5]) else redis.call('SREM', KEYS[5], ARGV[5]) end
return 1
`

interface RedisStoreCommands {
  egifAccept: (...args: Array<string | Buffer | number>) => Promise<string | null>
  egifAddEvent: (...args: Array<string | Buffer | number>) => Promise<number>
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

/**
 * The cluster-mode store: every hub process reads and writes the same Redis, so status, mailbox,
 * idempotency and dead letters agree whichever process is asked. Commands fail fast while Redis is
 * away (no offline queue), so intake answers 503 at once instead of hanging.
 *
 * Keys (one Redis, not Redis Cluster): `<p>:m:<sender>/<id>` hash (meta, receipt, seal, body,
 * state, attempts, delivered), `<p>:e:<sender>/<id>` events list, `<p>:id:<id>` senders set,
 * `<p>:inbox:<receiver>` zset, `<p>:dead`, `<p>:queued` sets, counters `<p>:seq`, `<p>:count`,
 * `<p>:rejections`, and `<p>:rejected` (the latest 10,000 refusals).
 */
export class RedisStore implements MessageStore {
  private readonly p: string
  private readonly redis: Redis & RedisStoreCommands

  private constructor (redis: Redis, opts: RedisStoreOptions) {
    this.p = opts.prefix ?? 'egif'
    redis.defineCommand('egifAccept', { numberOfKeys: 5, lua: ACCEPT })
    redis.defineCommand('egifAddEvent', { numberOfKeys: 5, lua: ADD_EVENT })
    this.redis = redis as Redis & RedisStoreCommands
  }

  static async open (url: string, opts: RedisStoreOptions = {}, redisOptions: RedisOptions = {}): Promise<RedisStore> {
    const redis = new Redis(url, {
      enableOfflineQueue: false,
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

  async get (sender: string, messageId: string): Promise<StoredMessage | undefined> {
    const member = `${sender}/${messageId}`
    try {
      const [fields, events] = await Promise.all([
        this.redis.hmget(this.k('m', member), 'meta', 'receipt', 'seal', 'state', 'attempts', 'delivered'),
        this.redis.lrange(this.k('e', member), 0, -1)
      ])
      const [meta, receipt, seal, state, attempts, delivered] = fields
      if (meta === null || receipt === null || seal === null || state === null) return undefined
      return {
        ...JSON.parse(meta) as MessageMeta,
        state: state as MessageState,
        attempts: Number(attempts ?? 0),
        events: events.map((e) => JSON.parse(e) as MessageEvent),
        receipt: JSON.parse(receipt) as Receipt,
        ...(delivered !== null ? { deliveredReceipt: JSON.parse(delivered) as Receipt } : {}),
        seal
      }
    } catch (err) {
      throw unavailable(err)
    }
  }

  private async getMany (members: string[]): Promise<StoredMessage[]> {
    const all = await Promise.all(members.map(async (member) => {
      const slash = member.indexOf('/')
      return await this.get(member.slice(0, slash), member.slice(slash + 1))
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
    let existing: string | null
    try {
      // Another process may have stored this id since intake looked: then the script answers
      // with the stored message instead, and the caller answers 200.
      const { receipt, seal } = await makeRecord()
      existing = await this.redis.egifAccept(
        this.k('m', member), this.k('e', member), this.k('id', meta.messageId), `${this.p}:queued`, `${this.p}:count`,
        JSON.stringify(meta), JSON.stringify(receipt), seal, Buffer.from(body.buffer, body.byteOffset, body.byteLength),
        meta.sender, member, JSON.stringify({ type: 'accepted', at: meta.receivedAt })
      )
    } catch (err) {
      throw unavailable(err)
    }
    const stored = await this.get(meta.sender, meta.messageId)
    if (stored === undefined) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `message ${member} vanished right after it was stored`)
    if (existing !== null) return asDuplicate(stored, meta.digest)
    return { message: stored, duplicate: false }
  }

  async addEvent (sender: string, messageId: string, event: MessageEvent, deliveredReceipt?: Receipt): Promise<StoredMessage> {
    const member = `${sender}/${messageId}`
    let found: number
    try {
      const msg = await this.redis.hget(this.k('m', member), 'meta')
      if (msg === null) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
      const receiver = (JSON.parse(msg) as MessageMeta).receiver
      const score = await this.redis.incr(`${this.p}:seq`)
      found = await this.redis.egifAddEvent(
        this.k('m', member), this.k('e', member), this.k('inbox', receiver), `${this.p}:dead`, `${this.p}:queued`,
        JSON.stringify(event), event.type, event.attempt ?? '', deliveredReceipt !== undefined ? JSON.stringify(deliveredReceipt) : '', member, score
      )
    } catch (err) {
      throw unavailable(err)
    }
    if (found === 0) throw new HubError('EGIF_ERR_NOT_FOUND', `no message ${messageId} from ${sender}`)
    return (await this.get(sender, messageId))!
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
        for (const key of keys) {
          const [meta, state] = await this.redis.hmget(key, 'meta', 'state')
          if (meta === null || state === null || !['delivered', 'acked', 'dead-lettered'].includes(state)) continue
          if (Date.parse((JSON.parse(meta) as MessageMeta).receivedAt) >= before.getTime()) continue
          removed += await this.redis.hdel(key, 'body')
        }
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
