import { Fifo } from '../queue/fifo.js'
import type { Later } from '../queue/queue.js'

/** Gives back a slot taken with {@link RecipientSlots.take}. */
export type Release = () => void

interface Slots {
  running: number
  /** Deliveries waiting for a slot, first come first served; each resolves with its slot or `undefined` when the hub stops. */
  waiting: Fifo<(release: Release | undefined) => void>
}

/** Bounds of the delay after which a job given back is handed out again. */
const LATER_MIN_MS = 100
const LATER_MAX_MS = 30_000

/** How many deliveries may wait for one of `limit` slots: enough to take a freed slot at once, no more. */
export function waitingLimit (limit: number): number {
  return Math.max(1, Math.ceil(limit / 4))
}

/**
 * How many deliveries to each recipient are under way, so that a recipient's system never gets
 * more requests at once than it is configured to take. A slot covers the exchange with the
 * recipient only (the adapter's `deliver`), not the write of its outcome.
 *
 * A few deliveries past the limit wait for a slot ({@link waitingLimit}); the rest are given back
 * to the queue for later, so that a slow recipient with a backlog holds no more of the hub's
 * deliveries at once than its limit and its few waiting, and the other recipients' deliveries go on.
 */
export class RecipientSlots {
  private readonly byRecipient = new Map<string, Slots>()
  /** A moving average of how long a slot is held, per recipient, in ms: when to try a job given back again. */
  private readonly holdMs = new Map<string, number>()
  private readonly given = new Map<string, number>()
  private closed = false

  constructor (private readonly clock: () => number = Date.now, private readonly random: () => number = Math.random) {}

  /**
   * A slot for a delivery to `recipient`: at once when fewer than `limit` are under way; a promise
   * of one when it is freed (in arrival order) while fewer than {@link waitingLimit} wait; past
   * that, a {@link Later} for the queue. `undefined` once {@link close} was called.
   */
  take (recipient: string, limit: number): Release | Promise<Release | undefined> | Later | undefined {
    if (this.closed) return undefined
    let s = this.byRecipient.get(recipient)
    if (s === undefined) this.byRecipient.set(recipient, s = { running: 0, waiting: new Fifo() })
    if (s.running < limit) {
      s.running++
      return this.releaser(recipient, s)
    }
    if (s.waiting.length >= waitingLimit(limit)) {
      this.given.set(recipient, (this.given.get(recipient) ?? 0) + 1)
      return { laterMs: this.laterMs(recipient) }
    }
    const slots = s
    return new Promise((resolve) => { slots.waiting.push(resolve) })
  }

  /** Deliveries to `recipient` under way and waiting, and how many were given back to the queue so far. */
  load (recipient: string): { running: number, waiting: number, givenBack: number } {
    const s = this.byRecipient.get(recipient)
    const givenBack = this.given.get(recipient) ?? 0
    return s === undefined ? { running: 0, waiting: 0, givenBack } : { running: s.running, waiting: s.waiting.length, givenBack }
  }

  /** Every delivery still waiting gets `undefined`, and so does every later `take`. */
  close (): void {
    this.closed = true
    for (const s of this.byRecipient.values()) for (const w of s.waiting.drain()) w(undefined)
  }

  /**
   * About twice the time a slot is held, within [100 ms, 30 s], spread by ±25 % so that the jobs
   * given back together do not all come back at once.
   */
  private laterMs (recipient: string): number {
    const hold = this.holdMs.get(recipient)
    const base = hold === undefined ? LATER_MIN_MS : Math.min(LATER_MAX_MS, Math.max(LATER_MIN_MS, 2 * hold))
    return Math.round(base * (0.75 + this.random() / 2))
  }

  private releaser (recipient: string, s: Slots): Release {
    let released = false
    const since = this.clock()
    return () => {
      if (released) return
      released = true
      const held = this.clock() - since
      const avg = this.holdMs.get(recipient)
      this.holdMs.set(recipient, avg === undefined ? held : avg + (held - avg) / 8)
      // The slot passes to the next delivery waiting: `running` stays as it is.
      const next = s.waiting.shift()
      if (next !== undefined) {
        next(this.releaser(recipient, s))
        return
      }
      s.running--
      if (s.running === 0) this.byRecipient.delete(recipient)
    }
  }
}
