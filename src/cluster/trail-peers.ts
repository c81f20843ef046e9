import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { HubError, isHubError, type ErrorCode } from '../errors.js'
import type { ProofReader } from '../trail/proofs.js'

/** What one process asks the process that keeps another trail. */
export type TrailQuestion =
  | { kind: 'proof', messageId: string, who: ProofReader }
  | { kind: 'consistency', from: number, to?: number }

type Answer = { ok: true, body: unknown } | { ok: false, code: ErrorCode, detail: string }

interface Asked {
  /** The list the answer goes to. */
  reply: string
  /** Epoch ms after which nobody waits for the answer. */
  until: number
  question: TrailQuestion
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
  private timer: NodeJS.Timeout | undefined
  private polling = false

  constructor (
    private readonly redis: Redis,
    private readonly prefix: string,
    /** This process's trail. */
    private readonly log: string,
    private readonly answer: (q: TrailQuestion) => Promise<unknown> | unknown
  ) {}

  private questions (log: string): string {
    return `${this.prefix}:trail-ask:${log}`
  }

  /**
   * Starts answering questions about this process's trail: their list is read every
   * {@link POLL_MS} on the store's connection (no connection of its own, and nothing that waits
   * in Redis, so that a process stops at once also while Redis is away).
   */
  start (): void {
    this.timer = setInterval(() => { void this.poll() }, POLL_MS)
    this.timer.unref()
  }

  private async poll (): Promise<void> {
    if (this.polling) return
    this.polling = true
    try {
      for (let n = 0; n < QUESTIONS_A_POLL; n++) {
        const raw = await this.redis.lpop(this.questions(this.log))
        if (raw === null) break
        void this.reply(raw)
      }
    } catch {
      // Redis away: the next round reads again.
    } finally {
      this.polling = false
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
    await this.redis.multi().rpush(asked.reply, JSON.stringify(a)).pexpire(asked.reply, ASK_MS).exec().catch(() => { /* the asker times out */ })
  }

  /**
   * Asks the process that keeps trail `log`; resolves with what its route would answer.
   * @throws HubError the answering process's error, EGIF_ERR_NOT_FOUND when none answers in time,
   *   EGIF_ERR_STORAGE_UNAVAILABLE when Redis does not answer
   */
  async ask (log: string, question: TrailQuestion): Promise<unknown> {
    const reply = `${this.prefix}:trail-answer:${randomUUID()}`
    const until = Date.now() + ASK_MS
    const asked: Asked = { reply, until, question }
    let got: string | null = null
    try {
      // The list expires with the last question nobody took (no live process keeps that trail).
      await this.redis.multi().rpush(this.questions(log), JSON.stringify(asked)).pexpire(this.questions(log), ASK_MS).exec()
      while (got === null && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, ANSWER_POLL_MS))
        got = await this.redis.lpop(reply)
      }
    } catch (err) {
      throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `cannot ask the process that keeps trail ${log}: ${(err as Error).message}`)
    }
    if (got === null) {
      throw new HubError('EGIF_ERR_NOT_FOUND', `no process of this cluster answered for trail ${log} within ${ASK_MS} ms: none that keeps it is running (a restarted process keeps its trail's name only with trail.log or EGIF_TRAIL_LOG set)`)
    }
    const a = JSON.parse(got) as Answer
    if (!a.ok) throw new HubError(a.code, a.detail)
    return a.body
  }

  /** Stops answering. */
  stop (): void {
    clearInterval(this.timer)
  }
}

/** How often a process looks for questions about its trail (ms). */
const POLL_MS = 200

/**
 * Most questions a poll takes off the list; the rest wait for the next poll, so that a burst of
 * questions (an auditor's tool proving many messages) never holds the event loop for long.
 */
const QUESTIONS_A_POLL = 16

/** How long a question waits for the process that keeps the trail (ms). */
const ASK_MS = 5000

/** How often an asking process looks for its answer (ms). */
const ANSWER_POLL_MS = 25
