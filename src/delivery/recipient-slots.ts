import { Fifo } from '../queue/fifo.js'

/** Gives back a slot taken with {@link RecipientSlots.take}. */
export type Release = () => void

interface Slots {
  running: number
  /** Deliveries waiting for a slot, first come first served; each resolves with its slot or `undefined` when the hub stops. */
  waiting: Fifo<(release: Release | undefined) => void>
}

/**
 * How many deliveries to each recipient are under way, so that a recipient's system never gets
 * more requests at once than it is configured to take. A slot covers the exchange with the
 * recipient only (the adapter's `deliver`), not the write of its outcome.
 */
export class RecipientSlots {
  private readonly byRecipient = new Map<string, Slots>()
  private closed = false

  /**
   * A slot for a delivery to `recipient`: at once when fewer than `limit` are under way, otherwise
   * a promise of one when it is freed (in arrival order). `undefined` once {@link close} was called.
   */
  take (recipient: string, limit: number): Release | Promise<Release | undefined> | undefined {
    if (this.closed) return undefined
    let s = this.byRecipient.get(recipient)
    if (s === undefined) this.byRecipient.set(recipient, s = { running: 0, waiting: new Fifo() })
    if (s.running < limit) {
      s.running++
      return this.releaser(recipient, s)
    }
    const slots = s
    return new Promise((resolve) => { slots.waiting.push(resolve) })
  }

  /** Deliveries to `recipient` under way and waiting. */
  load (recipient: string): { running: number, waiting: number } {
    const s = this.byRecipient.get(recipient)
    return s === undefined ? { running: 0, waiting: 0 } : { running: s.running, waiting: s.waiting.length }
  }

  /** Every delivery still waiting gets `undefined`, and so does every later `take`. */
  close (): void {
    this.closed = true
    for (const s of this.byRecipient.values()) for (const w of s.waiting.drain()) w(undefined)
  }

  private releaser (recipient: string, s: Slots): Release {
    let released = false
    return () => {
      if (released) return
      released = true
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
