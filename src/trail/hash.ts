import { createHash } from 'node:crypto'

/**
 * The hashes of RFC 9162 §2.1.1: a leaf is SHA-256(0x00 ‖ data), an interior node
 * SHA-256(0x01 ‖ left ‖ right). The prefixes keep a leaf from ever being passed off as a node.
 */
const LEAF = Buffer.from([0])
const NODE = Buffer.from([1])

export const HASH_BYTES = 32

/** RFC 9162 hash of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest()

/** The hash before the first record of a chain: 32 zero bytes. */
export const GENESIS: Buffer = Buffer.alloc(HASH_BYTES)

export function leafHash (data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest()
}

export function nodeHash (left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest()
}

export function toHex (h: Uint8Array): string {
  return Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex')
}

export function fromHex (s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || !/^[0-9a-f]{64}$/.test(s)) throw new Error(`${what} is not 64 lowercase hex digits`)
  return Buffer.from(s, 'hex')
}
