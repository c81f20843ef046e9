import { HubError } from '../errors.js'
import { assertUtf8 } from '../xml/utf8.js'

export interface JsonLimits {
  /** Largest document in bytes. Default 10 MiB. */
  maxBytes: number
  /** Deepest nesting of arrays and objects (a top-level object is depth 1). Default 64. */
  maxDepth: number
}

export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxBytes: 10 * 1024 * 1024, maxDepth: 64 })

const utf8 = new TextDecoder('utf-8') // strips one leading BOM, as RFC 8259 §8.1 allows

/**
 * Parses JSON (RFC 8259) strictly: UTF-8 only (one leading BOM allowed), nesting bounded, a key
 * repeated in one object refused (parsers disagree on which value wins, so a validator and a
 * receiver could read different documents), nothing but white space after the value.
 * Escaped lone surrogates (`"\ud800"`) are refused too: they cannot be encoded in UTF-8, so a
 * receiver's parser may replace, keep or reject them (RFC 8259 §8.2, RFC 7493 §2.1).
 * Numbers too large for a double (`1e400`) are refused rather than read as Infinity, which no
 * JSON can carry onwards. Values are otherwise exactly what `JSON.parse` returns.
 * Recursive descent, but the depth is checked before each descent, so hostile nesting stops at
 * `maxDepth` long before the stack could overflow.
 *
 * @throws HubError EGIF_ERR_JSON_MALFORMED | EGIF_ERR_JSON_TOO_DEEP | EGIF_ERR_JSON_DUPLICATE_KEY |
 * EGIF_ERR_ENCODING | EGIF_ERR_BODY_TOO_LARGE
 */
export function parseJson (bytes: Uint8Array, limits: Partial<JsonLimits> = {}): unknown {
  const maxBytes = limits.maxBytes ?? DEFAULT_JSON_LIMITS.maxBytes
  const maxDepth = limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth
  if (bytes.length > maxBytes) throw new HubError('EGIF_ERR_BODY_TOO_LARGE', `the document has ${bytes.length} bytes; the limit is ${maxBytes}`)
  assertUtf8(bytes)
  return new JsonParser(utf8.decode(bytes), maxDepth).document()
}

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

class JsonParser {
  private readonly s: string
  private readonly maxDepth: number
  private p = 0
  private depth = 0

  constructor (s: string, maxDepth: number) {
    this.s = s
    this.maxDepth = maxDepth
  }

  document (): unknown {
    const value = this.value()
    this.space()
    if (this.p < this.s.length) throw this.error('content after the JSON value')
    return value
  }

  private error (what: string, at = this.p): HubError {
    return new HubError('EGIF_ERR_JSON_MALFORMED', `${what} at character ${at}`, { offset: at })
  }

  private space (): void {
    const s = this.s
    while (this.p < s.length && isSpace(s.charCodeAt(this.p))) this.p++
  }

  private value (): unknown {
    this.space()
    const c = this.s.charCodeAt(this.p)
    if (c === 0x7b) return this.object()
    if (c === 0x5b) return this.array()
    if (c === 0x22) return this.string()
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
    if (this.literal('true')) return true
    if (this.literal('false')) return false
    if (this.literal('null')) return null
    throw this.error(this.p >= this.s.length ? 'the document ends where a value is expected' : 'unexpected character')
  }

  private literal (word: string): boolean {
    if (!this.s.startsWith(word, this.p)) return false
    this.p += word.length
    return true
  }

  private enter (): void {
    if (++this.depth > this.maxDepth) {
      throw new HubError('EGIF_ERR_JSON_TOO_DEEP', `arrays and objects nest deeper than ${this.maxDepth} (character ${this.p})`, { offset: this.p })
    }
  }

  private object (): Record<string, unknown> {
    this.enter()
    const out: Record<string, unknown> = {}
    this.p++
    this.space()
    if (this.s.charCodeAt(this.p) === 0x7d) { this.p++; this.depth--; return out }
    for (;;) {
      this.space()
      if (this.s.charCodeAt(this.p) !== 0x22) throw this.error('a key is expected')
      const keyAt = this.p
      const key = this.string()
      if (Object.hasOwn(out, key)) {
        throw new HubError('EGIF_ERR_JSON_DUPLICATE_KEY', `the key ${JSON.stringify(key)} appears twice in one object (character ${keyAt})`, { offset: keyAt, key })
      }
      this.space()
      if (this.s.charCodeAt(this.p) !== 0x3a) throw this.error('":" is expected')
      this.p++
      const v = this.value()
      // An own "__proto__" member, as JSON.parse makes it, not a prototype change.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true })
      else out[key] = v
      this.space()
      const c = this.s.charCodeAt(this.p)
      this.p++
      if (c === 0x2c) continue
      if (c === 0x7d) { this.depth--; return out }
      throw this.error('"," or "}" is expected', this.p - 1)
    }
  }

  private array (): unknown[] {
    this.enter()
    const out: unknown[] = []
    this.p++
    this.space()
    if (this.s.charCodeAt(this.p) === 0x5d) { this.p++; this.depth--; return out }
    for (;;) {
      out.push(this.value())
      this.space()
      const c = this.s.charCodeAt(this.p)
      this.p++
      if (c === 0x2c) continue
      if (c === 0x5d) { this.depth--; return out }
      throw this.error('"," or "]" is expected', this.p - 1)
    }
  }

  private string (): string {
    const s = this.s
    const start = ++this.p
    // Fast path: no escapes, one slice.
    let q = start
    for (;;) {
      if (q >= s.length) throw this.error('a string is not closed', start - 1)
      const c = s.charCodeAt(q)
      if (c === 0x22) { this.p = q + 1; return s.slice(start, q) }
      if (c === 0x5c) break
      if (c < 0x20) throw this.error('a control character inside a string', q)
      q++
    }
    let out = s.slice(start, q)
    for (;;) {
      if (q >= s.length) throw this.error('a string is not closed', start - 1)
      const c = s.charCodeAt(q)
      if (c === 0x22) { this.p = q + 1; return out }
      if (c < 0x20) throw this.error('a control character inside a string', q)
      if (c !== 0x5c) { out += s[q]; q++; continue }
      const e = s.charCodeAt(q + 1)
      q += 2
      switch (e) {
        case 0x22: out += '"'; break
        case 0x5c: out += '\\'; break
        case 0x2f: out += '/'; break
        case 0x62: out += '\b'; break
        case 0x66: out += '\f'; break
        case 0x6e: out += '\n'; break
        case 0x72: out += '\r'; break
        case 0x74: out += '\t'; break
        case 0x75: {
          const u = this.hex4(q)
          q += 4
          if (u >= 0xdc00 && u <= 0xdfff) throw this.error('an escaped lone low surrogate', q - 6)
          if (u >= 0xd800 && u <= 0xdbff) {
            const low = s.charCodeAt(q) === 0x5c && s.charCodeAt(q + 1) === 0x75 ? this.hex4(q + 2) : -1
            if (low < 0xdc00 || low > 0xdfff) throw this.error('an escaped lone high surrogate', q - 6)
            out += String.fromCharCode(u, low)
            q += 6
          } else {
            out += String.fromCharCode(u)
          }
          break
        }
        default: throw this.error('an invalid escape', q - 2)
      }
    }
  }

  private hex4 (q: number): number {
    let v = 0
    for (let i = 0; i < 4; i++) {
      const c = this.s.charCodeAt(q + i)
      let d: number
      if (c >= 0x30 && c <= 0x39) d = c - 0x30
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37
      else throw this.error('\\u needs four hex digits', q - 2)
      v = v * 16 + d
    }
    return v
  }

  /** RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number (): number {
    const s = this.s
    const start = this.p
    let q = start
    if (s.charCodeAt(q) === 0x2d) q++
    const first = s.charCodeAt(q)
    if (first === 0x30) q++
    else if (first >= 0x31 && first <= 0x39) q = digits(s, q)
    else throw this.error('a digit is expected', q)
    if (s.charCodeAt(q) === 0x2e) {
      const d = digits(s, q + 1)
      if (d === q + 1) throw this.error('a digit is expected after "."', d)
      q = d
    }
    const e = s.charCodeAt(q)
    if (e === 0x65 || e === 0x45) {
      q++
      const sign = s.charCodeAt(q)
      if (sign === 0x2b || sign === 0x2d) q++
      const d = digits(s, q)
      if (d === q) throw this.error('a digit is expected in the exponent', q)
      q = d
    }
    const n = Number(s.slice(start, q))
    if (!Number.isFinite(n)) throw this.error('a number too large for a double', start)
    this.p = q
    return n
  }
}

function digits (s: string, q: number): number {
  for (;;) {
    const c = s.charCodeAt(q) // NaN past the end, which is not a digit either
    if (!(c >= 0x30 && c <= 0x39)) return q
    q++
  }
}
