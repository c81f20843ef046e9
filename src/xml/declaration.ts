import { HubError } from '../errors.js'

/** True when `<?xml` followed by white space starts at `p`: the XML declaration, not a PI. */
export function isXmlDeclaration (b: Uint8Array, p: number): boolean {
  return b[p] === 0x3c && b[p + 1] === 0x3f && b[p + 2] === 0x78 && b[p + 3] === 0x6d && b[p + 4] === 0x6c &&
    (b[p + 5] === 0x20 || b[p + 5] === 0x09 || b[p + 5] === 0x0a || b[p + 5] === 0x0d)
}

// Longer than any honest declaration (`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`
// is 55 bytes), short enough that a hostile one costs nothing.
const MAX_DECLARATION = 256

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

/** The bytes [from, to) as a string; the caller has checked they are ASCII. */
function ascii (b: Uint8Array, from: number, to: number): string {
  let s = ''
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i])
  return s
}

/**
 * Reads the XML declaration at `p` (see {@link isXmlDeclaration}) and returns the offset after
 * `?>`. Refuses an `encoding` other than UTF-8: the hub stores and forwards the bytes unchanged,
 * so a receiver that honours a declared ISO-8859-1 or UTF-16 would read other characters than
 * the ones the hub validated. Versions and `standalone` are left for libxml2 to check.
 */
export function readDeclaration (b: Uint8Array, p: number): number {
  const end = Math.min(b.length, p + MAX_DECLARATION)
  let q = p + 5
  for (;;) {
    while (q < end && isSpace(b[q])) q++
    if (q >= end) throw new HubError('EGIF_ERR_XML_MALFORMED', 'the XML declaration is not closed with ?>')
    if (b[q] === 0x3f && b[q + 1] === 0x3e) return q + 2
    const nameStart = q
    while (q < end && b[q] >= 0x61 && b[q] <= 0x7a) q++
    const name = ascii(b, nameStart, q)
    while (q < end && isSpace(b[q])) q++
    if (name === '' || b[q] !== 0x3d) throw new HubError('EGIF_ERR_XML_MALFORMED', 'the XML declaration is not well-formed')
    q++
    while (q < end && isSpace(b[q])) q++
    const quote = b[q]
    if (quote !== 0x22 && quote !== 0x27) throw new HubError('EGIF_ERR_XML_MALFORMED', 'the XML declaration is not well-formed')
    const valueStart = ++q
    while (q < end && b[q] !== quote) {
      if (b[q] < 0x20 || b[q] > 0x7e) throw new HubError('EGIF_ERR_XML_MALFORMED', 'the XML declaration holds a character other than printable ASCII')
      q++
    }
    if (q >= end) throw new HubError('EGIF_ERR_XML_MALFORMED', 'the XML declaration is not well-formed')
    if (name === 'encoding') {
      const enc = ascii(b, valueStart, q)
      const norm = enc.toLowerCase()
      if (norm !== 'utf-8' && norm !== 'utf8') {
        throw new HubError('EGIF_ERR_XML_ENCODING', `the XML declaration names the encoding "${enc}"; documents must be UTF-8`, { encoding: enc })
      }
    }
    q++
  }
}
