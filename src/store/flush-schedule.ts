/**
 * When a group-committed log (the journal, the trail's files, the body archive's packs) writes its
 * next batch, or the check threads' pool hands its next batch of receipts to a thread
 * (`ThreadChecks.signReceipt`, where nothing lingers).
 *
 * A record someone waits for (a message's `202` waits for its `accepted` records and receipt) goes
 * in the next turn of the event loop, with whatever else was queued in this one. A record nobody
 * waits for (`linger`: a delivery's outcome, a body for the archive) may wait
 * up to `lingerMs` for company: at a light load each write alone costs a system call, a trip
 * through libuv's thread pool and, for a durable file, a flush of its own (each hand-over, the
 * wake-up of two threads), so these ride along with the next write or hand-over that has to happen
 * anyway. Under load one is always under way and every record goes with the next, lingering or
 * not.
 *
 * The user calls `finished()` synchronously when its flush has taken everything queued, so that a
 * record queued by a caller whose append just resolved is never left without a flush.
 */
export class FlushSchedule {
  private flushing = false
  private timer: NodeJS.Timeout | undefined

  constructor (private readonly flush: () => Promise<void>, private readonly lingerMs: number) {}

  /** Whether a flush runs or is due. */
  get busy (): boolean {
    return this.flushing || this.timer !== undefined
  }

  /** A record was queued; `linger`: nobody waits for it, it may wait for company. */
  queued (linger = false): void {
    if (this.flushing) return
    if (!linger || this.lingerMs <= 0) this.begin()
    else this.timer ??= setTimeout(this.begin, this.lingerMs)
  }

  /** Writes what lingers without waiting any longer (closing). */
  now (): void {
    if (this.timer !== undefined) this.begin()
  }

  /** Writes what lingers now and waits until everything queued is written (closing). */
  async drain (): Promise<void> {
    this.now()
    while (this.busy) await new Promise((resolve) => setImmediate(resolve))
  }

  /** The flush found nothing more to write. */
  finished (): void {
    this.flushing = false
  }

  private readonly begin = (): void => {
    clearTimeout(this.timer)
    this.timer = undefined
    this.flushing = true
    setImmediate(() => { void this.flush() })
  }
}

/**
 * How long a record nobody waits for may wait for company (see {@link FlushSchedule}). A few
 * milliseconds: at 100 messages a second and more, a delivery's outcome then goes with the next
 * message's `accepted` records instead of costing a write of its own.
 */
export const LINGER_MS = 10

/** How a record is to be written, for the callers of a group-committed log or hand-over. */
export interface WriteOptions {
  /**
   * Nobody waits for this record (a delivery's outcome, an archived body):
   * it may wait up to {@link LINGER_MS} for company (see {@link FlushSchedule}).
   */
  linger?: boolean
}
