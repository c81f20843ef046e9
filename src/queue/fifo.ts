/**
 * First in, first out, with O(1) `shift`: an array read from a moving head (`Array.shift` is
 * linear in the length), compacted once the part already read is most of it. A slot is cleared as
 * it is read, so an item taken out is not kept alive by the queue (for a delivery queue that holds
 * jobs for long, the message each job names).
 */
export class Fifo<T> {
  private items: Array<T | undefined> = []
  private head = 0

  get length (): number {
    return this.items.length - this.head
  }

  push (item: T): void {
    this.items.push(item)
  }

  shift (): T | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Everything still in it, oldest first; leaves it empty. */
  drain (): T[] {
    const rest = this.items.slice(this.head) as T[]
    this.items = []
    this.head = 0
    return rest
  }
}
