import { DelayedError, Queue, Worker, type ConnectionOptions, type Job } from 'bullmq'
import { jobId, laterOf, within, withTimeout, type DeliveryJob, type DeliveryQueue, type JobHandler } from './queue.js'

export interface BullMqQueueOptions {
  /** Key prefix shared by every hub process of one cluster. Default `egif`. */
  prefix?: string
  /** Queue name. Default `deliveries`. */
  name?: string
  /**
   * How long a worker holds a job before another process may take it over (BullMQ renews the lock
   * while the job runs). A process killed mid-delivery has its job picked up after about this long.
   * Default 10 s.
   */
  lockDurationMs?: number
  /**
   * `close` waits for the jobs under way to finish and be recorded, however long their deliveries
   * take, as long as Redis answers. When they are not done after this long and Redis does not
   * answer (so BullMQ could not record their end), the workers' connections are dropped and
   * `close` returns; those jobs stay active in Redis and a live process takes them over when their
   * locks expire. Default 15 s.
   */
  closeWaitMs?: number
}

const ADD_TIMEOUT_MS = 3000

/**
 * Most jobs one BullMQ worker runs at once; a process's concurrency is spread over as many workers
 * as that takes. A BullMQ worker fetches jobs one round trip at a time and starts none of them
 * until it holds as many as its concurrency allows or the queue is empty, so one worker of 512
 * started its first delivery of a burst only after 512 round trips (seconds, under load) while the
 * queue kept filling. Workers of a few dozen each fetch side by side and start sooner. Smaller
 * workers cost more: two connections to Redis each, and a worker that finds the queue empty after
 * a job asks once more; 64 did as well as 32 in the bench (docs/performance.md).
 */
export const JOBS_PER_WORKER = 64

/** How `concurrency` is split over workers: as many as it takes at {@link JOBS_PER_WORKER} each, as evenly as it goes. */
export function workerShares (concurrency: number): number[] {
  const n = Math.max(1, Math.ceil(concurrency / JOBS_PER_WORKER))
  return Array.from({ length: n }, (_, i) => Math.floor(concurrency / n) + (i < concurrency % n ? 1 : 0))
}

/** BullMQ job ids must not contain ':'; ids and participant ids never contain '/'. */
function bullJobId (job: DeliveryJob): string {
  return jobId(job).replace(/\u0000/g, '/')
}

/**
 * The cluster-mode queue: BullMQ on Redis. Any hub process adds, any process's worker delivers; a
 * job whose worker died is moved back to the wait list when its lock expires and delivered by
 * another process.
 *
 * BullMQ resolves an `add` whose job id already exists as if it had added it. A reused id with
 * other content must never vanish like that, so after every `add` the stored job's digest is
 * compared with the new one.
 */
export class BullMqQueue implements DeliveryQueue {
  private readonly queue: Queue
  private workers: Worker[] = []
  private readonly connection: Record<string, unknown>
  private readonly opts: Required<BullMqQueueOptions>

  constructor (url: string, opts: BullMqQueueOptions = {}) {
    const u = new URL(url)
    this.connection = {
      host: u.hostname,
      port: Number(u.port === '' ? 6379 : u.port),
      ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      retryStrategy: (times: number) => Math.min(times * 100, 2000)
    }
    this.opts = { prefix: opts.prefix ?? 'egif', name: opts.name ?? 'deliveries', lockDurationMs: opts.lockDurationMs ?? 10_000, closeWaitMs: opts.closeWaitMs ?? 15_000 }
    this.queue = new Queue(this.opts.name, {
      connection: { ...this.connection, maxRetriesPerRequest: 1 } as ConnectionOptions,
      prefix: this.opts.prefix
    })
    this.queue.on('error', () => { /* surfaced by add() and by readiness */ })
  }

  /**
   * Adds a job. Bounded in time: while Redis is away this fails within `ADD_TIMEOUT_MS` instead of
   * waiting, and the caller relies on the sweep (the message is already stored as queued).
   */
  async add (job: DeliveryJob, opts: { delayMs?: number } = {}): Promise<void> {
    await withTimeout(this.addNow(job, opts), ADD_TIMEOUT_MS, `adding delivery job ${bullJobId(job)}`)
  }

  private async addNow (job: DeliveryJob, opts: { delayMs?: number }): Promise<void> {
    const id = bullJobId(job)
    await this.queue.add('deliver', job, {
      jobId: id,
      delay: Math.max(0, opts.delayMs ?? 0),
      removeOnComplete: true,
      removeOnFail: true,
      attempts: 1
    })
    // Only the job's data, not the whole job (getJob reads every field and builds a Job).
    const data = await (await this.queue.getBackend().client).hget(this.queue.toKey(id), 'data')
    // Null: it already ran and was removed, which needs no check.
    const digest = data === null ? job.digest : (JSON.parse(data) as DeliveryJob).digest
    if (digest !== job.digest) throw new Error(`job ${id} exists with digest ${digest}, not ${job.digest}`)
  }

  process (handler: JobHandler, concurrency: number): void {
    const run = async (j: Job, token?: string): Promise<void> => {
      const later = laterOf(await handler(j.data as DeliveryJob))
      if (later === undefined) return
      // Given back: the job moves to the delayed set under its own id, with no attempt counted
      // (BullMQ's documented way: move it, then throw DelayedError).
      await j.moveToDelayed(Date.now() + later, token)
      throw new DelayedError()
    }
    this.workers = workerShares(concurrency).map((share) => {
      const w = new Worker(this.opts.name, run, {
        connection: { ...this.connection, maxRetriesPerRequest: null } as ConnectionOptions,
        prefix: this.opts.prefix,
        concurrency: share,
        lockDuration: this.opts.lockDurationMs,
        stalledInterval: Math.max(1000, Math.floor(this.opts.lockDurationMs / 2)),
        // A stalled job is a delivery whose process died: always try again, never fail it for that.
        maxStalledCount: 1000
      })
      w.on('error', () => { /* reconnects by itself; readiness reports the outage */ })
      return w
    })
  }

  size (): number {
    return 0
  }

  /** Jobs waiting, delayed or running in the whole cluster. */
  async count (): Promise<number> {
    return await this.queue.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized')
  }

  /** Whether Redis answers a PING within a second. */
  private async redisAnswers (): Promise<boolean> {
    try {
      const client = await this.queue.getBackend().client as unknown as { ping: () => Promise<string> }
      const pong = client.ping()
      return await within(pong, 1000) && await pong === 'PONG'
    } catch {
      return false
    }
  }

  async close (): Promise<void> {
    // Worker.close waits for the jobs it is running (the delivery timeout bounds them) and for
    // Redis to record their end, which it waits for as long as Redis is away: bounded here.
    const workers = Promise.all(this.workers.map(async (w) => { await w.close() }))
    while (!await within(workers, this.opts.closeWaitMs)) {
      // Deliveries still running are bounded by their own timeouts: wait on while Redis answers.
      if (await this.redisAnswers()) continue
      // Redis is away. The connections are dropped (no more reconnecting keeps the process up) and
      // BullMQ's close is left unfinished: what it waits for would need Redis. Jobs still marked
      // active in Redis are taken over by a live process once their locks expire.
      for (const w of this.workers) {
        // Its timers (lock renewal, stalled checks) stop with a finished close only: stopped here,
        // or they would keep the process up. Both are BullMQ internals, reached with care.
        const inner = w as unknown as { lockManager?: { close?: () => Promise<void> }, stalledCheckStopper?: () => void }
        inner.lockManager?.close?.().catch(() => {})
        inner.stalledCheckStopper?.()
        w.disconnect().catch(() => {})
      }
      break
    }
    if (!await within(this.queue.close(), this.opts.closeWaitMs)) this.queue.disconnect().catch(() => {})
  }
}
