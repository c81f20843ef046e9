import { isUtf8 } from 'node:buffer'
import { HubError } from '../errors.js'

/**
 * Offset of the first byte that does not start or continue a well-formed UTF-8 sequence
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or -1.
 * Only used to explain a refusal, after the native check has failed.
 */
export function firstInvalidUtf8 (b: Uint8Array): number {
  const n = b.length
  let i = 0
  while (i < n) {
    const c = b[i]
    if (c < 0x80) { i++; continue }
    let len: number
    let lo = 0x80
    let hi = 0xbf
    if (c >= 0xc2 && c <= 0xdf) len = 2
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3
      if (c === 0xe0) lo = 0xa0 // overlong
      else if (c === 0xed) hi = 0x9f // UTF-16 surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4
      if (c === 0xf0) lo = 0x90 // overlong
      else if (c === 0xf4) hi = 0x8f // above U+10FFFF
    } else return i
    if (i + len > n) return i
    const c1 = b[i + 1]
    if (c1 < lo || c1 > hi) return i
    for (let k = 2; k < len; k++) {
      const ck = b[i + k]
      if (ck < 0x80 || ck > 0xbf) return i
    }
    i += len
  }
  return -1
}

/** Throws `EGIF_ERR_ENCODING` unless every byte is well-formed UTF-8. */
export function assertUtf8 (b: Uint8Array): void {
  // isUtf8 is the native (simdutf) validator: no allocation, gigabytes per second.
  if (isUtf8(b)) return
  const at = firstInvalidUtf8(b)
  const utf16 = b.length >= 2 && ((b[0] === 0xfe && b[1] === 0xff) || (b[0] === 0xff && b[1] === 0xfe))
  throw new HubError('EGIF_ERR_ENCODING', utf16
    ? 'the document starts with a UTF-16 byte order mark; documents must be UTF-8'
    : `the document is not valid UTF-8 (first bad byte at offset ${at})`, { offset: at })
}
