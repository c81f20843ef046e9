import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { Redis, type RedisOptions } from 'ioredis'
import { Fifo } from './fifo.js'
import { jobId, laterOf, within, withTimeout, type DeliveryJob, type DeliveryQueue, type JobHandler } from './queue.js'

export interface StreamQueueOptions {
  /** Key prefix shared by every hub process of one cluster. Default `egif`. */
  prefix?: string
  /**
   * How long a job taken by a process stays with it without word from it before another process
   * takes it over. A process renews the jobs it holds every third of this; one killed
   * mid-delivery has its jobs picked up after about this long. Default 10 s.
   */
  lockDurationMs?: number
  /** How often delayed jobs that are due are moved to the stream, in ms. Default 50. */
  promoteEveryMs?: number
}

const ADD_TIMEOUT_MS = 3000
const GROUP = 'hub'
/** How long one read of the ready stream waits in Redis for entries. */
const READ_BLOCK_MS = 1000

/*
 * Keys, under `<prefix>:q:`:
 *   jobs     hash   job id → the job as JSON, from `add` until the job is finished (waiting,
 *                   delayed or running): what makes a second `add` of the same job a no-op
 *   ready    stream one entry per job that is due (`id`, `job`), read by the group `hub`; an entry
 *                   read and not yet finished is in the group's pending list, owned by its process
 *   delayed  zset   job id → when it is due (ms, Redis's clock)
 * The scripts take Redis's clock, not the caller's, so processes with skewed clocks agree.
 */

/** KEYS jobs, ready, delayed · ARGV id, job JSON, delay ms → the existing job's JSON, or false when added. */
const ADD = `
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return existing end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local delay = tonumber(ARGV[3])
if delay > 0 then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + delay, ARGV[1])
else
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'job', ARGV[2])
end
return false
`

/** KEYS delayed, ready, jobs → how many due jobs were moved to the stream (at most 1,000 a call). */
const PROMOTE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[3], id)
  if job then redis.call('XADD', KEYS[2], '*', 'id', id, 'job', job) end
  redis.call('ZREM', KEYS[1], id)
end
return #ids
`

/** KEYS ready, jobs · ARGV group, entry id, job id: the job is finished. */
const FINISH = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
`

/**
 * KEYS ready, delayed · ARGV group, entry id, job id, delay ms: the job is given back. Its entry
 * leaves the stream and its id waits in the delayed set; the job itself stays in `jobs`.
 */
const LATER = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[4]), ARGV[3])
return 1
`

/**
 * KEYS ready · ARGV group, consumer, entry ids…: resets the idle time of the entries this
 * consumer still owns (an entry another process took over stays with it).
 */
const RENEW = `
local n = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    n = n + 1
  end
end
return n
`

interface Commands {
  egifQueueAdd: (jobs: string, ready: string, delayed: string, id: string, job: string, delayMs: number) => Promise<string | null>
  egifQueuePromote: (delayed: string, ready: string, jobs: string) => Promise<number>
  egifQueueFinish: (ready: string, jobs: string, group: string, entry: string, id: string) => Promise<number>
  egifQueueRenew: (ready: string, group: string, consumer: string, ...entries: string[]) => Promise<number>
  egifQueueLater: (ready: string, delayed: string, group: string, entry: string, id: string, delayMs: number) => Promise<number>
}

type StreamEntry = [id: string, fields: string[]]

function field (fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/**
 * The cluster-mode queue on a Redis stream read by one consumer group: any hub process adds, any
 * process takes the next due jobs in batches, and a job stays in the group's pending list,
 * owned by the process that took it, until that process finishes it. A process renews what it
 * holds; a job left by a process that stopped answering for `lockDurationMs` is taken over by
 * another (`XAUTOCLAIM`). Delayed jobs (the next attempts) wait in a sorted set until they are due.
 *
 * An add is one script (the job's id is checked, stored and made due or delayed at once), a job
 * taken is part of one `XREADGROUP` for as many as the process has room for, and a finished job is
 * one script: about 10 Redis commands a delivery, where BullMQ takes ~35. Chosen with
 * `cluster.queue: stream`; BullMQ stays the default (DESIGN §4).
 */
export class StreamQueue implements DeliveryQueue {
  private readonly redis: Redis & Commands
  private blocking: Redis | null = null
  private readonly keys: { jobs: string, ready: string, delayed: string }
  private readonly consumer = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
  private readonly lockDurationMs: number
  private readonly promoteEveryMs: number
  private handler: JobHandler | null = null
  private concurrency = 1
  /** Entries this process holds and renews: running, or taken over and waiting for a free slot. */
  private readonly held = new Set<string>()
  private readonly backlog = new Fifo<StreamEntry>()
  private running = 0
  /** No more jobs are taken (close was called); the running ones still finish, renew and may add their next attempt. */
  private closed = false
  /** Closed and drained: nothing more is added. */
  private ended = false
  /** Stopped when close() is called. */
  private readonly timers: NodeJS.Timeout[] = []
  /** Renewals, stopped only once the running jobs are done. */
  private renewTimer: NodeJS.Timeout | undefined
  private loop: Promise<void> | null = null
  private wake: (() => void) | null = null
  private idle: Array<() => void> = []

  constructor (url: string, opts: StreamQueueOptions = {}, redisOptions: RedisOptions = {}) {
    const p = `${opts.prefix ?? 'egif'}:q`
    this.keys = { jobs: `${p}:jobs`, ready: `${p}:ready`, delayed: `${p}:delayed` }
    this.lockDurationMs = opts.lockDurationMs ?? 10_000
    this.promoteEveryMs = opts.promoteEveryMs ?? 50
    const redis = new Redis(url, {
      maxRetriesPerRequest: 1,
      // Commands issued in one event-loop turn go out in one write (adds, finishes and renewals of
      // many jobs): a fraction of the system calls on both sides, and fewer AOF fsyncs in Redis.
      enableAutoPipelining: true,
      // Reconnect for ever, at most every 2 s: the queue comes back when Redis does.
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...redisOptions
    })
    // Errors surface on commands; an unhandled 'error' event would end the process.
    redis.on('error', () => {})
    redis.defineCommand('egifQueueAdd', { numberOfKeys: 3, lua: ADD })
    redis.defineCommand('egifQueuePromote', { numberOfKeys: 3, lua: PROMOTE })
    redis.defineCommand('egifQueueFinish', { numberOfKeys: 2, lua: FINISH })
    redis.defineCommand('egifQueueRenew', { numberOfKeys: 1, lua: RENEW })
    redis.defineCommand('egifQueueLater', { numberOfKeys: 2, lua: LATER })
    this.redis = redis as Redis & Commands
  }

  /**
   * Adds a job. Bounded in time: while Redis is away this fails within a few seconds instead of
   * waiting, and the caller relies on the sweep (the message is already stored as queued). A job
   * already pending with the same content is left as it is; with other content, refused.
   */
  async add (job: DeliveryJob, opts: { delayMs?: number } = {}): Promise<void> {
    if (this.ended) throw new Error('the queue is closed')
    const id = jobId(job).replace(/\u0000/g, '/')
    const data = JSON.stringify({ sender: job.sender, messageId: job.messageId, attempt: job.attempt, digest: job.digest })
    const { jobs, ready, delayed } = this.keys
    const existing = await withTimeout(this.redis.egifQueueAdd(jobs, ready, delayed, id, data, Math.max(0, Math.round(opts.delayMs ?? 0))), ADD_TIMEOUT_MS, `adding delivery job ${id}`)
    if (existing === null) return
    const digest = (JSON.parse(existing) as DeliveryJob).digest
    if (digest !== job.digest) throw new Error(`job ${id} is pending with other content (${digest})`)
  }

  process (handler: JobHandler, concurrency: number): void {
    if (this.handler !== null) throw new Error('the queue already has a handler')
    this.handler = handler
    this.concurrency = Math.max(1, concurrency)
    this.blocking = this.redis.duplicate({ maxRetriesPerRequest: null, enableAutoPipelining: false })
    this.blocking.on('error', () => {})
    /** Runs `f` every `ms`, never two at once. */
    const every = (ms: number, f: () => Promise<unknown>): NodeJS.Timeout => {
      let busy = false
      const t = setInterval(() => {
        if (busy) return
        busy = true
        f().catch(() => { /* Redis away: the next round tries again */ }).finally(() => { busy = false })
      }, ms)
      t.unref()
      return t
    }
    this.timers.push(every(this.promoteEveryMs, async () => { await this.redis.egifQueuePromote(this.keys.delayed, this.keys.ready, this.keys.jobs) }))
    this.timers.push(every(Math.max(200, Math.floor(this.lockDurationMs / 2)), async () => { await this.takeOver() }))
    // Renewals go on while close() waits for the running jobs, so a long delivery is not taken over meanwhile.
    this.renewTimer = every(Math.max(100, Math.floor(this.lockDurationMs / 3)), async () => { await this.renew() })
    this.loop = this.read()
  }

  /** Jobs added and not yet finished in the whole cluster (waiting, delayed or running). */
  async count (): Promise<number> {
    return await this.redis.hlen(this.keys.jobs)
  }

  size (): number {
    return 0
  }

  /** Stops taking jobs, waits for the running ones (which may still add jobs), and closes the connections. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const t of this.timers) clearInterval(t)
    this.wake?.()
    // Ends a read blocked in Redis at once. Entries Redis handed to this read as the connection
    // closed are in this process's pending list, unrenewed: another process takes them over.
    this.blocking?.disconnect()
    // A read under way returns within its BLOCK time, and the loop ends. With Redis away it never
    // returns (a dropped connection that is reconnecting leaves its command unanswered): the loop
    // is left behind, holding no timer, and close goes on.
    if (this.loop !== null) await within(this.loop, READ_BLOCK_MS + 2000)
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
    clearInterval(this.renewTimer)
    this.ended = true
    this.redis.disconnect()
  }

  private async read (): Promise<void> {
    const blocking = this.blocking!
    let failures = 0
    await this.ensureGroup().catch(() => {})
    while (!this.closed) {
      if (this.running >= this.concurrency) {
        await new Promise<void>((resolve) => { this.wake = resolve })
        this.wake = null
        // Jobs that finish in the same turn free their slots together: one read for all of them.
        await new Promise((resolve) => setImmediate(resolve))
        continue
      }
      const taken = this.backlog.shift()
      if (taken !== undefined) {
        this.start(taken)
        continue
      }
      try {
        const res = await blocking.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', this.concurrency - this.running, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.keys.ready, '>') as Array<[string, StreamEntry[]]> | null
        failures = 0
        for (const [, entries] of res ?? []) for (const e of entries) this.start(e)
      } catch (err) {
        if (this.closed) break
        if (/NOGROUP/.test((err as Error).message)) await this.ensureGroup().catch(() => {})
        await sleep(Math.min(100 * ++failures, 2000))
      }
    }
  }

  private start ([entry, fields]: StreamEntry): void {
    const id = field(fields, 'id')
    const data = field(fields, 'job')
    this.held.add(entry)
    this.running++
    const run = async (): Promise<void> => {
      let later: number | undefined
      if (id !== undefined && data !== undefined) {
        try {
          later = laterOf(await this.handler!(JSON.parse(data) as DeliveryJob))
        } catch { /* the worker records its own failures */ }
      }
      await this.finish(entry, id ?? '', later)
    }
    void run().finally(() => {
      this.held.delete(entry)
      this.running--
      this.wake?.()
      if (this.running === 0) for (const f of this.idle.splice(0)) f()
    })
  }

  /**
   * Finishes a job, or gives it back for `later` ms; while Redis is away it stays pending, and
   * whoever takes it over runs it again (and finds it done, if it was).
   */
  private async finish (entry: string, id: string, later?: number): Promise<void> {
    for (let i = 0; i < 3; i++) {
      try {
        if (later !== undefined) await this.redis.egifQueueLater(this.keys.ready, this.keys.delayed, GROUP, entry, id, later)
        else await this.redis.egifQueueFinish(this.keys.ready, this.keys.jobs, GROUP, entry, id)
        return
      } catch {
        await sleep(200 * (i + 1))
      }
    }
  }

  private async ensureGroup (): Promise<void> {
    try {
      // From the start of the stream: a group made anew (Redis lost it) still sees every entry.
      await this.redis.xgroup('CREATE', this.keys.ready, GROUP, '0', 'MKSTREAM')
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err
    }
  }

  private async renew (): Promise<void> {
    if (this.held.size === 0) return
    await this.redis.egifQueueRenew(this.keys.ready, GROUP, this.consumer, ...this.held.keys())
  }

  /** Takes over the jobs of processes that stopped renewing them; they run as slots free up. */
  private async takeOver (): Promise<void> {
    let cursor = '0-0'
    for (let round = 0; round < 10; round++) {
      const [next, entries, deleted] = await this.redis.xautoclaim(this.keys.ready, GROUP, this.consumer, this.lockDurationMs, cursor, 'COUNT', 100) as [string, Array<StreamEntry | null>, string[]?]
      for (const e of entries) {
        if (e === null || this.held.has(e[0])) continue
        this.held.add(e[0])
        this.backlog.push(e)
      }
      // Entries deleted from the stream while pending: nothing to run, only the pending list to clear.
      if (deleted !== undefined && deleted.length > 0) await this.redis.xack(this.keys.ready, GROUP, ...deleted)
      this.wake?.()
      if (next === '0-0') break
      cursor = next
    }
    // Every process start is a consumer of its own; those gone for long and holding nothing are dropped.
    const consumers = await this.redis.xinfo('CONSUMERS', this.keys.ready, GROUP) as unknown[][]
    for (const c of consumers) {
      const info = new Map<string, unknown>()
      for (let i = 0; i + 1 < c.length; i += 2) info.set(String(c[i]), c[i + 1])
      if (info.get('name') !== this.consumer && Number(info.get('pending')) === 0 && Number(info.get('idle')) > 10 * this.lockDurationMs) {
        await this.redis.xgroup('DELCONSUMER', this.keys.ready, GROUP, String(info.get('name')))
      }
    }
  }
}
