/**
 * Growable lists of numbers in one typed array each: a trail of ten million records keeps its
 * offsets, times and index lists in tens of megabytes, where JavaScript arrays of numbers would
 * take several times that and give the garbage collector millions of slots to scan.
 */
abstract class TypedList<A extends Float64Array | Uint32Array> {
  protected items: A
  length = 0

  constructor (protected readonly make: (n: number) => A, capacity = 1024) {
    this.items = make(capacity)
  }

  push (v: number): void {
    if (this.length === this.items.length) {
      const bigger = this.make(this.items.length * 2)
      bigger.set(this.items)
      this.items = bigger
    }
    this.items[this.length++] = v
  }

  at (i: number): number {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`item ${i} of ${this.length}`)
    return this.items[i]
  }

  /** The items, in order (a view until the next push). */
  view (): A {
    return this.items.subarray(0, this.length) as A
  }
}

/** Numbers of any size (offsets, times in ms). */
export class Float64List extends TypedList<Float64Array> {
  constructor (capacity?: number) { super((n) => new Float64Array(n), capacity) }
}

/** Whole numbers below 2³² (record indexes, lengths). */
export class Uint32List extends TypedList<Uint32Array> {
  constructor (capacity?: number) { super((n) => new Uint32Array(n), capacity) }
}
