import { HASH_BYTES } from './hash.js'

/**
 * A growable array of 32-byte hashes in one buffer. A million leaves cost 32 MB here, where a
 * million small Buffers would cost several times that in object headers.
 */
export class HashArray {
  private buf = Buffer.allocUnsafe(HASH_BYTES * 1024)
  length = 0

  push (h: Uint8Array): void {
    if ((this.length + 1) * HASH_BYTES > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2)
      this.buf.copy(bigger, 0, 0, this.length * HASH_BYTES)
      this.buf = bigger
    }
    this.buf.set(h, this.length * HASH_BYTES)
    this.length++
  }

  /** A view of hash `i` (valid until the next push). */
  at (i: number): Buffer {
    if (i < 0 || i >= this.length) throw new RangeError(`hash ${i} of ${this.length}`)
    return this.buf.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)
  }

  /** A copy of hash `i`. */
  copy (i: number): Buffer {
    return Buffer.from(this.at(i))
  }
}
