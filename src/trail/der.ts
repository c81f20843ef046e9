/**
 * The little DER that RFC 3161 needs: read a TLV, walk a constructed value's children, encode a
 * few primitives. Anything that is not well-formed DER throws.
 */
export interface Tlv {
  tag: number
  /** The value's bytes. */
  value: Buffer
  /** The whole encoding, tag and length included. */
  raw: Buffer
}

export function readTlv (buf: Buffer, pos = 0): Tlv {
  if (pos + 2 > buf.length) throw new Error('truncated DER')
  const tag = buf[pos]
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte DER tags are not used here')
  let len = buf[pos + 1]
  let off = pos + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || off + n > buf.length) throw new Error('bad DER length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i]
    off += n
  }
  if (off + len > buf.length) throw new Error('truncated DER')
  return { tag, value: buf.subarray(off, off + len), raw: buf.subarray(pos, off + len) }
}

export function children (t: Tlv): Tlv[] {
  const out: Tlv[] = []
  let pos = 0
  while (pos < t.value.length) {
    const c = readTlv(t.value, pos)
    out.push(c)
    pos += c.raw.length
  }
  return out
}

export function expectTag (t: Tlv | undefined, tag: number, what: string): Tlv {
  if (t === undefined || t.tag !== tag) throw new Error(`${what}: expected tag 0x${tag.toString(16)}, found ${t === undefined ? 'nothing' : '0x' + t.tag.toString(16)}`)
  return t
}

export function oid (t: Tlv): string {
  expectTag(t, 0x06, 'object identifier')
  const v = t.value
  const parts: number[] = [Math.floor(v[0] / 40), v[0] % 40]
  let n = 0
  for (let i = 1; i < v.length; i++) {
    n = n * 128 + (v[i] & 0x7f)
    if ((v[i] & 0x80) === 0) {
      parts.push(n)
      n = 0
    }
  }
  return parts.join('.')
}

export function encode (tag: number, value: Buffer): Buffer {
  const len = value.length
  let head: number[]
  if (len < 0x80) head = [tag, len]
  else if (len < 0x100) head = [tag, 0x81, len]
  else if (len < 0x10000) head = [tag, 0x82, len >> 8, len & 0xff]
  else head = [tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]
  return Buffer.concat([Buffer.from(head), value])
}

export function seq (...items: Buffer[]): Buffer {
  return encode(0x30, Buffer.concat(items))
}

export function encodeOid (dotted: string): Buffer {
  const p = dotted.split('.').map(Number)
  const bytes: number[] = [p[0] * 40 + p[1]]
  for (const n of p.slice(2)) {
    const stack: number[] = [n & 0x7f]
    for (let x = Math.floor(n / 128); x > 0; x = Math.floor(x / 128)) stack.unshift((x & 0x7f) | 0x80)
    bytes.push(...stack)
  }
  return encode(0x06, Buffer.from(bytes))
}

export function encodeUnsignedInt (b: Buffer): Buffer {
  let v = b
  while (v.length > 1 && v[0] === 0 && (v[1] & 0x80) === 0) v = v.subarray(1)
  if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v])
  return encode(0x02, v)
}
