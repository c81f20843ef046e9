import { EMPTY_ROOT, nodeHash } from './hash.js'
import { HashArray } from './hash-array.js'

/**
 * The Merkle tree of RFC 9162 §2.1 over a log's leaf hashes, kept as levels of perfect subtrees so
 * that the root of any earlier size, an inclusion proof (§2.1.3) and a consistency proof (§2.1.4)
 * cost O(log² n) hashes, not O(n). Each append adds one leaf and, amortised, one node.
 */
export class MerkleTree {
  /** levels[k][j] = hash of leaves [j·2^k, (j+1)·2^k). */
  private readonly levels: HashArray[] = [new HashArray()]

  get size (): number {
    return this.levels[0].length
  }

  append (leaf: Uint8Array): void {
    this.levels[0].push(leaf)
    for (let k = 0; this.levels[k].length % 2 === 0; k++) {
      const lv = this.levels[k]
      if (this.levels[k + 1] === undefined) this.levels.push(new HashArray())
      this.levels[k + 1].push(nodeHash(lv.at(lv.length - 2), lv.at(lv.length - 1)))
    }
  }

  leaf (i: number): Buffer {
    return this.levels[0].copy(i)
  }

  /** MTH(D[lo:hi]) for the ranges the RFC's recursions visit (lo aligned to the left part). */
  private range (lo: number, hi: number): Buffer {
    const n = hi - lo
    if ((n & (n - 1)) === 0 && lo % n === 0) return this.levels[Math.log2(n)].copy(lo / n)
    const k = largestPowerOfTwoBelow(n)
    return nodeHash(this.range(lo, lo + k), this.range(lo + k, hi))
  }

  /** The root of the tree of the first `size` leaves. */
  root (size = this.size): Buffer {
    this.check(size)
    return size === 0 ? Buffer.from(EMPTY_ROOT) : this.range(0, size)
  }

  /** RFC 9162 §2.1.3.1 PATH(index, D[size]). */
  inclusionProof (index: number, size = this.size): Buffer[] {
    this.check(size)
    if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`)
    const path: Buffer[] = []
    const walk = (m: number, lo: number, hi: number): void => {
      const n = hi - lo
      if (n === 1) return
      const k = largestPowerOfTwoBelow(n)
      if (m < k) {
        walk(m, lo, lo + k)
        path.push(this.range(lo + k, hi))
      } else {
        walk(m - k, lo + k, hi)
        path.push(this.range(lo, lo + k))
      }
    }
    walk(index, 0, size)
    return path
  }

  /** RFC 9162 §2.1.4.1 PROOF(first, D[second]); empty when first is 0 or equals second. */
  consistencyProof (first: number, second = this.size): Buffer[] {
    this.check(second)
    if (!(first >= 0 && first <= second)) throw new RangeError(`size ${first} is not within ${second}`)
    const path: Buffer[] = []
    if (first === 0 || first === second) return path
    const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
      const n = hi - lo
      if (m === n) {
        if (!whole) path.push(this.range(lo, hi))
        return
      }
      const k = largestPowerOfTwoBelow(n)
      if (m <= k) {
        sub(m, lo, lo + k, whole)
        path.push(this.range(lo + k, hi))
      } else {
        sub(m - k, lo + k, hi, false)
        path.push(this.range(lo, lo + k))
      }
    }
    sub(first, 0, second, true)
    return path
  }

  /**
   * The perfect subtrees covering the first `size` leaves, largest first: enough to go on
   * computing roots from leaf `size` onward without the earlier leaves (a bundle's starting point).
   */
  frontier (size: number): Buffer[] {
    this.check(size)
    const out: Buffer[] = []
    let offset = 0
    for (let b = 31; b >= 0; b--) {
      const w = 2 ** b
      if (size >= offset + w && (size & w) !== 0) {
        out.push(this.levels[b].copy(offset / w))
        offset += w
      }
    }
    return out
  }

  private check (size: number): void {
    if (!(Number.isInteger(size) && size >= 0 && size <= this.size)) throw new RangeError(`the tree has ${this.size} leaves, not ${size}`)
  }
}

/**
 * Roots of a growing tree from leaves alone, keeping only the perfect subtrees of the right edge:
 * what a verifier streaming millions of records needs (O(log n) memory).
 */
export class CompactRange {
  private readonly hashes: Buffer[] = []
  private readonly sizes: number[] = []
  size = 0

  /** Starts after `size` leaves whose perfect subtrees (largest first) are `frontier`. */
  constructor (frontier: Buffer[] = [], size = 0) {
    let left = size
    for (const h of frontier) {
      const w = 2 ** Math.floor(Math.log2(left))
      this.hashes.push(h)
      this.sizes.push(w)
      left -= w
    }
    if (left !== 0 || frontier.length !== popcount(size)) throw new Error(`a frontier of ${frontier.length} hashes does not cover ${size} leaves`)
    this.size = size
  }

  append (leaf: Buffer): void {
    let h = leaf
    let w = 1
    while (this.sizes.length > 0 && this.sizes[this.sizes.length - 1] === w) {
      h = nodeHash(this.hashes.pop()!, h)
      this.sizes.pop()
      w *= 2
    }
    this.hashes.push(h)
    this.sizes.push(w)
    this.size++
  }

  root (): Buffer {
    if (this.hashes.length === 0) return Buffer.from(EMPTY_ROOT)
    let r = this.hashes[this.hashes.length - 1]
    for (let i = this.hashes.length - 2; i >= 0; i--) r = nodeHash(this.hashes[i], r)
    return r
  }
}

function popcount (n: number): number {
  let c = 0
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2
  return c
}

export function largestPowerOfTwoBelow (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** RFC 9162 §2.1.3.2: true when `leaf` at `index` is in the tree of `size` leaves with `root`. */
export function verifyInclusion (leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!(index >= 0 && index < size)) return false
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && r.equals(root)
}

/** RFC 9162 §2.1.4.2: true when the tree of `second` leaves with `secondRoot` extends the one of `first` leaves with `firstRoot`. */
export function verifyConsistency (first: number, second: number, proof: readonly Buffer[], firstRoot: Buffer, secondRoot: Buffer): boolean {
  if (first > second || first < 0) return false
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot)
  if (first === 0) return proof.length === 0
  if (proof.length === 0) return false
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof]
  let fn = first - 1
  let sn = second - 1
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
  let fr = path[0]
  let sr = path[0]
  for (const c of path.slice(1)) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0
}
