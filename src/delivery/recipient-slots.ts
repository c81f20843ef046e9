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
const LATER_MAX_MS = 300_000
/** How often a recipient's pace is looked at: its give-backs against its deliveries done. */
const PACE_WINDOW_MS = 1000

/**
 * How fast a busy recipient's jobs come back. A backlog given back goes round the queue once per
 * delay, so with a fixed delay a large backlog would go round many times for each delivery made;
 * each second the delay doubles while give-backs are more than a quarter of the deliveries done,
 * and halves again once they are fewer than a sixteenth, so that the trips round the queue stay a
 * small part of the work.
 */
interface Pace {
  /** Average time a slot is held, in ms. */
  holdMs: number | undefined
  factor: number
  windowStart: number
  /** Given back and done in the current window. */
  givenBack: number
  done: number
  /** Given back since the process started (what `load` reports). */
  givenBackInAll: number
}

/** How many deliveries may wait for one of `limit` slots: enough to take a freed slot at once, no more. */
export function waitingLimit (limit: number): number {
  return Math.max(1, Math.ceil(limit / 4))
}

/**
 * How many deliveries to each recipient are under way, so that a recipient's system never gets
 * more requests at once than it is configured to take. A slot covers the exchange with the
 * recipient only (the adapter's `deliver`), not the write of its outcome.
 *
 * Past the limit, deliveries wait for a slot while the process has room (fewer than three
 * quarters of its deliveries at once are under way or waiting), and a few always may
 * ({@link waitingLimit}); the rest are given back to the queue for later. So a slow recipient with
 * a backlog never takes the last quarter of the process's deliveries at once from the others,
 * and a recipient that is merely busy keeps its order and costs no trips round the queue.
 */
export class RecipientSlots {
  private readonly byRecipient = new Map<string, Slots>()
  /** Per recipient: when to hand a job given back out again. */
  private readonly pace = new Map<string, Pace>()
  private closed = false
  /** Deliveries under way and waiting, over all recipients. */
  private held = 0
  /** Past this many held, only {@link waitingLimit} may wait per recipient. */
  private readonly room: number

  /** `concurrency`: the process's deliveries at once (`delivery.concurrency`). */
  constructor (concurrency: number, private readonly clock: () => number = Date.now, private readonly random: () => number = Math.random) {
    this.room = Math.floor(concurrency * 3 / 4)
  }

  /**
   * A slot for a delivery to `recipient`: at once when fewer than `limit` are under way; a promise
   * of one when it is freed (in arrival order) while the process has room or fewer than
   * {@link waitingLimit} wait; otherwise a {@link Later} for the queue. `undefined` once
   * {@link close} was called.
   */
  take (recipient: string, limit: number): Release | Promise<Release | undefined> | Later | undefined {
    if (this.closed) return undefined
    let s = this.byRecipient.get(recipient)
    if (s === undefined) this.byRecipient.set(recipient, s = { running: 0, waiting: new Fifo() })
    if (s.running < limit) {
      s.running++
      this.held++
      return this.releaser(recipient, s)
    }
    if (this.held >= this.room && s.waiting.length >= waitingLimit(limit)) {
      const pace = this.paceOf(recipient, this.clock())
      pace.givenBack++
      pace.givenBackInAll++
      return { laterMs: this.laterMs(pace) }
    }
    const slots = s
    this.held++
    return new Promise((resolve) => { slots.waiting.push(resolve) })
  }

  /** Deliveries to `recipient` under way and waiting, and how many were given back to the queue so far. */
  load (recipient: string): { running: number, waiting: number, givenBack: number } {
    const s = this.byRecipient.get(recipient)
    const givenBack = this.pace.get(recipient)?.givenBackInAll ?? 0
    return s === undefined ? { running: 0, waiting: 0, givenBack } : { running: s.running, waiting: s.waiting.length, givenBack }
  }

  /** Every delivery still waiting gets `undefined`, and so does every later `take`. */
  close (): void {
    this.closed = true
    for (const s of this.byRecipient.values()) {
      for (const w of s.waiting.drain()) {
        this.held--
        w(undefined)
      }
    }
  }

  /**
   * About twice the time a slot is held, times the pace factor, within [100 ms, 5 min], spread by
   * ±25 % so that the jobs given back together do not all come back at once.
   */
  private laterMs (pace: Pace): number {
    const base = pace.holdMs === undefined ? LATER_MIN_MS : Math.min(LATER_MAX_MS, Math.max(LATER_MIN_MS, 2 * pace.holdMs * pace.factor))
    return Math.round(base * (0.75 + this.random() / 2))
  }

  /** The recipient's pace, its window moved on (and its factor set) when a window has passed. */
  private paceOf (recipient: string, now: number): Pace {
    let pace = this.pace.get(recipient)
    if (pace === undefined) this.pace.set(recipient, pace = { holdMs: undefined, factor: 1, windowStart: now, givenBack: 0, done: 0, givenBackInAll: 0 })
    if (now - pace.windowStart >= PACE_WINDOW_MS) {
      if (pace.givenBack > pace.done / 4) pace.factor = Math.min(pace.factor * 2, 1024)
      else if (pace.givenBack < pace.done / 16) pace.factor = Math.max(1, pace.factor / 2)
      pace.windowStart = now
      pace.givenBack = 0
      pace.done = 0
    }
    return pace
  }

  private releaser (recipient: string, s: Slots): Release {
    let released = false
    const since = this.clock()
    return () => {
      if (released) return
      released = true
      const now = this.clock()
      const pace = this.paceOf(recipient, now)
      const held = now - since
      pace.holdMs = pace.holdMs === undefined ? held : pace.holdMs + (held - pace.holdMs) / 8
      pace.done++
      this.held--
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
