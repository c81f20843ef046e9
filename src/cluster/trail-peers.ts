import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { HubError, isHubError, type ErrorCode } from '../errors.js'
import type { ProofReader } from '../trail/proofs.js'
import { within, withTimeout } from '../queue/queue.js'

/** What one process asks the process that keeps another trail. */
export type TrailQuestion =
  | { kind: 'proof', messageId: string, who: ProofReader }
  | { kind: 'consistency', from: number, to?: number, who: ProofReader }

type Answer = { ok: true, body: unknown } | { ok: false, code: ErrorCode, detail: string }

interface Asked {
  /** The list the answer goes to. */
  reply: string
  /** Epoch ms after which nobody waits for the answer. */
  until: number
  question: TrailQuestion
}

export interface TrailPeersOptions {
  /** How long a question waits for the process that keeps the trail. Default 5 s. */
  askMs?: number
}

/**
 * Proofs across the processes of a cluster. Each hub process keeps and signs its own trail, and a
 * receipt names a record of the trail of the process that accepted the message, while a load
 * balancer sends the sender's proof request to any process. So each process answers questions
 * about its own trail that others put in a Redis list named after it
 * (`<prefix>:trail-ask:<log>`), and asks the same way about a trail it does not keep. A question
 * nobody answers in time (no live process keeps that trail) is EGIF_ERR_NOT_FOUND.
 *
 * The processes of a cluster trust each other as they trust Redis: the asking process
 * authenticates the caller and passes who it is; the answering one shows only what that caller
 * may see.
 */
export class TrailPeers {
  private readonly askMs: number
  private listener: Redis | null = null
  private loop: Promise<void> | null = null
  private closed = false

  constructor (
    private readonly redis: Redis,
    private readonly prefix: string,
    /** This process's trail. */
    private readonly log: string,
    private readonly answer: (q: TrailQuestion) => Promise<unknown> | unknown,
    opts: TrailPeersOptions = {}
  ) {
    this.askMs = opts.askMs ?? 5000
  }

  private questions (log: string): string {
    return `${this.prefix}:trail-ask:${log}`
  }

  /** Starts answering questions about this process's trail. */
  async start (): Promise<void> {
    const listener = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: null, enableAutoPipelining: false, enableOfflineQueue: true })
    listener.on('error', () => { /* reconnects by itself; questions wait in Redis meanwhile */ })
    await listener.connect()
    this.listener = listener
    this.loop = this.listen(listener)
  }

  private async listen (listener: Redis): Promise<void> {
    while (!this.closed) {
      let item: [string, string] | null
      try {
        item = await listener.blpop(this.questions(this.log), 1)
      } catch {
        if (this.closed) return
        await new Promise((resolve) => setTimeout(resolve, 500))
        continue
      }
      if (item !== null) void this.reply(item[1])
    }
  }

  private async reply (raw: string): Promise<void> {
    let asked: Asked
    try {
      asked = JSON.parse(raw) as Asked
    } catch {
      return
    }
    if (Date.now() > asked.until) return
    let a: Answer
    try {
      a = { ok: true, body: await this.answer(asked.question) }
    } catch (err) {
      a = isHubError(err)
        ? { ok: false, code: err.code, detail: err.message }
        : { ok: false, code: 'EGIF_ERR_INTERNAL', detail: `the process that keeps trail ${this.log} could not answer` }
    }
    await this.redis.multi().rpush(asked.reply, JSON.stringify(a)).pexpire(asked.reply, this.askMs).exec().catch(() => { /* the asker times out */ })
  }

  /**
   * Asks the process that keeps trail `log`; resolves with what its route would answer.
   * @throws HubError the answering process's error, or EGIF_ERR_NOT_FOUND when none answers in time
   */
  async ask (log: string, question: TrailQuestion): Promise<unknown> {
    const reply = `${this.prefix}:trail-answer:${randomUUID()}`
    const waiting = this.redis.duplicate({ lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: false, enableOfflineQueue: true })
    waiting.on('error', () => {})
    const asking = (async (): Promise<[string, string] | null> => {
      await waiting.connect()
      const asked: Asked = { reply, until: Date.now() + this.askMs, question }
      // The list expires with the last question nobody took (no live process keeps that trail).
      await this.redis.multi().rpush(this.questions(log), JSON.stringify(asked)).pexpire(this.questions(log), this.askMs).exec()
      return await waiting.blpop(reply, this.askMs / 1000)
    })()
    let got: [string, string] | null
    try {
      // Bounded also while Redis is away (a reconnecting connection may leave a command unanswered).
      got = await withTimeout(asking, this.askMs + 2000, `asking for trail ${log}`)
    } catch (err) {
      throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `cannot ask the process that keeps trail ${log}: ${(err as Error).message}`)
    } finally {
      waiting.disconnect()
    }
    if (got === null) {
      throw new HubError('EGIF_ERR_NOT_FOUND', `no process of this cluster answered for trail ${log} within ${this.askMs} ms: none that keeps it is running (a restarted process keeps its trail's name only with trail.log or EGIF_TRAIL_LOG set)`)
    }
    const a = JSON.parse(got[1]) as Answer
    if (!a.ok) throw new HubError(a.code, a.detail)
    return a.body
  }

  /** Stops answering; a question being answered still gets its answer. */
  async close (): Promise<void> {
    this.closed = true
    this.listener?.disconnect()
    // A read that Redis, away, never answers is left behind (it holds no timer).
    if (this.loop !== null) await within(this.loop, 2000)
  }
}
