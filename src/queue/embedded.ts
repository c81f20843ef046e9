import { Fifo } from './fifo.js'
import { jobId, laterOf, type DeliveryJob, type DeliveryQueue, type JobHandler } from './queue.js'

/**
 * The in-process queue of embedded mode. It keeps nothing on disk itself: the message store is the
 * durable record, and at start the hub adds a job for every message that is not yet delivered.
 */
export class EmbeddedQueue implements DeliveryQueue {
  /** Jobs due, oldest first. */
  private readonly ready = new Fifo<DeliveryJob>()
  private readonly known = new Map<string, string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private handler: JobHandler | null = null
  private concurrency = 1
  private running = 0
  private closed = false
  private idle: Array<() => void> = []

  async add (job: DeliveryJob, opts: { delayMs?: number } = {}): Promise<void> {
    if (this.closed) throw new Error('the queue is closed')
    const id = jobId(job)
    const digest = this.known.get(id)
    if (digest !== undefined) {
      if (digest !== job.digest) throw new Error(`job ${id.replace(/\u0000/g, '/')} is pending with other content (${digest})`)
      return
    }
    this.known.set(id, job.digest)
    this.schedule(job, opts.delayMs ?? 0)
  }

  /** Makes a pending job due now or after `delay` ms. */
  private schedule (job: DeliveryJob, delay: number): void {
    if (delay <= 0) {
      this.ready.push(job)
      this.pump()
      return
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.ready.push(job)
      this.pump()
    }, delay)
    this.timers.add(timer)
  }

  process (handler: JobHandler, concurrency: number): void {
    this.handler = handler
    this.concurrency = Math.max(1, concurrency)
    this.pump()
  }

  size (): number {
    return this.known.size
  }

  private pump (): void {
    while (!this.closed && this.handler !== null && this.running < this.concurrency && this.ready.length > 0) {
      const job = this.ready.shift()!
      this.running++
      const handler = this.handler
      void handler(job)
        .then(laterOf, () => undefined /* the worker records its own failures */)
        .then((later) => {
          this.running--
          // Given back: still pending (an add of it stays a no-op), due again after its delay.
          if (later !== undefined && !this.closed) this.schedule(job, later)
          else this.known.delete(jobId(job))
          if (this.running === 0) for (const f of this.idle.splice(0)) f()
          this.pump()
        })
    }
  }

  async close (): Promise<void> {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
  }
}
