import t from 'tap'
import { createHash } from 'node:crypto'
import { CompactRange, MerkleTree, verifyConsistency, verifyInclusion } from '../../src/trail/merkle.js'
import { EMPTY_ROOT, leafHash, nodeHash } from '../../src/trail/hash.js'

// The definitions of RFC 9162 §2.1, written as the RFC states them (recursive, O(n)), to check
// the incremental tree against.
const k = (n: number): number => { let x = 1; while (x * 2 < n) x *= 2; return x }
const mth = (d: Buffer[]): Buffer => d.length === 0 ? EMPTY_ROOT : d.length === 1 ? leafHash(d[0]) : nodeHash(mth(d.slice(0, k(d.length))), mth(d.slice(k(d.length))))
const path = (m: number, d: Buffer[]): Buffer[] => {
  if (d.length === 1) return []
  const s = k(d.length)
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))]
}
const subproof = (m: number, d: Buffer[], b: boolean): Buffer[] => {
  if (m === d.length) return b ? [] : [mth(d)]
  const s = k(d.length)
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))]
}

const data = Array.from({ length: 40 }, (_, i) => Buffer.from(`record ${i}`))
const tree = new MerkleTree()
for (const d of data) tree.append(leafHash(d))

t.test('roots of every size match the RFC definition', async (t) => {
  t.same(tree.root(0), EMPTY_ROOT)
  t.equal(EMPTY_ROOT.toString('hex'), createHash('sha256').digest('hex'))
  for (let n = 1; n <= data.length; n++) t.ok(tree.root(n).equals(mth(data.slice(0, n))), `size ${n}`)
})

t.test('a known vector: two leaves', async (t) => {
  const two = new MerkleTree()
  two.append(leafHash(Buffer.from('a')))
  two.append(leafHash(Buffer.from('b')))
  const expected = createHash('sha256').update(Buffer.from([1])).update(createHash('sha256').update(Buffer.from([0, 0x61])).digest()).update(createHash('sha256').update(Buffer.from([0, 0x62])).digest()).digest()
  t.ok(two.root().equals(expected))
})

t.test('inclusion proofs equal PATH and verify; wrong ones do not', async (t) => {
  for (let n = 1; n <= data.length; n++) {
    for (let m = 0; m < n; m++) {
      const p = tree.inclusionProof(m, n)
      t.same(p.map((h) => h.toString('hex')), path(m, data.slice(0, n)).map((h) => h.toString('hex')))
      t.ok(verifyInclusion(tree.leaf(m), m, n, p, tree.root(n)))
      if (n > 1) {
        t.notOk(verifyInclusion(tree.leaf((m + 1) % n), m, n, p, tree.root(n)), 'another leaf')
        t.notOk(verifyInclusion(tree.leaf(m), m, n, p.slice(1), tree.root(n)), 'a shortened proof')
      }
    }
  }
})

t.test('consistency proofs equal PROOF and verify; wrong ones do not', async (t) => {
  for (let n = 1; n <= data.length; n++) {
    for (let m = 1; m < n; m++) {
      const p = tree.consistencyProof(m, n)
      t.same(p.map((h) => h.toString('hex')), subproof(m, data.slice(0, n), true).map((h) => h.toString('hex')))
      t.ok(verifyConsistency(m, n, p, tree.root(m), tree.root(n)), `${m} → ${n}`)
      t.notOk(verifyConsistency(m, n, p, Buffer.alloc(32), tree.root(n)), 'another first root')
      t.notOk(verifyConsistency(m, n, p, tree.root(m), tree.root(n - 1)), 'another second root')
    }
  }
})

t.test('a compact range from a frontier gives the same roots', async (t) => {
  for (const start of [0, 1, 5, 8, 13, 32]) {
    const r = new CompactRange(tree.frontier(start), start)
    t.ok(r.root().equals(tree.root(start)))
    for (let i = start; i < data.length; i++) {
      r.append(tree.leaf(i))
      t.ok(r.root().equals(tree.root(i + 1)), `from ${start} to ${i + 1}`)
    }
  }
  t.throws(() => new CompactRange([tree.leaf(0)], 3), 'size 3 needs two subtrees')
})
