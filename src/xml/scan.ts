import { HubError } from '../errors.js'
import { resolveXmlLimits, type XmlLimits } from './limits.js'
import { isXmlDeclaration, readDeclaration } from './declaration.js'
import { assertUtf8 } from './utf8.js'

/** What the scanner learns about a document it accepts. */
export interface XmlScan {
  /** Offset of the first byte after a UTF-8 BOM (0 or 3). */
  start: number
  /** The root element; `namespace` is resolved from the root's own xmlns attributes ('' when none). */
  root: { prefix: string, localName: string, namespace: string }
  elements: number
  maxDepthSeen: number
}

const LT = 0x3c
const GT = 0x3e
const AMP = 0x26
const SLASH = 0x2f
const QMARK = 0x3f
const BANG = 0x21
const EQ = 0x3d
const HASH = 0x23
const SEMI = 0x3b
const DASH = 0x2d
const RSQB = 0x5d

// Byte classes, one table per context, so each hot loop is one load and one compare per byte.
// Bytes >= 0x80 are plain everywhere: UTF-8 is validated once, natively, before the scan.
const PLAIN = 0
const CTRL = 1 // C0 control other than tab, LF, CR: XML 1.0 forbids them everywhere
const MARKUP = 2 // '<'
const REF = 3 // '&'
const QUOTE = 4
const END = 5 // ends a name

function table (entries: Array<[number[], number]>): Uint8Array {
  const t = new Uint8Array(256)
  for (let c = 0; c < 0x20; c++) if (c !== 0x09 && c !== 0x0a && c !== 0x0d) t[c] = CTRL
  for (const [bytes, cls] of entries) for (const c of bytes) t[c] = cls
  return t
}
const SPACE = [0x20, 0x09, 0x0a, 0x0d]
const TEXT = table([[[LT], MARKUP], [[AMP], REF]])
const ATTR_VALUE = table([[[LT], MARKUP], [[AMP], REF], [[0x22, 0x27], QUOTE]])
const NAME = table([[[...SPACE, SLASH, GT, LT, EQ, 0x22, 0x27], END]])
const IS_SPACE = new Uint8Array(256)
for (const c of SPACE) IS_SPACE[c] = 1

function malformed (detail: string, at: number): HubError {
  return new HubError('EGIF_ERR_XML_MALFORMED', `${detail} (offset ${at})`, { offset: at })
}

/**
 * Scans a document once, left to right, before libxml2 parses it. It refuses what must never
 * reach a parser (DOCTYPE and entity declarations, processing instructions, forbidden control
 * characters, non-UTF-8 input) and what would make parsing expensive (depth, attributes, element
 * count), and finds the root element. It is not a full well-formedness check: libxml2 parses
 * next, and a document is accepted only when both agree. Iterative (no recursion, so depth
 * cannot overflow the stack), no regular expressions, no allocation except for the root's name.
 *
 * @throws HubError EGIF_ERR_BODY_TOO_LARGE, EGIF_ERR_ENCODING, EGIF_ERR_XML_*
 */
export function scanXml (bytes: Uint8Array, limits?: Partial<XmlLimits>): XmlScan {
  const lim = resolveXmlLimits(limits)
  if (bytes.length > lim.maxBytes) {
    throw new HubError('EGIF_ERR_BODY_TOO_LARGE', `the document has ${bytes.length} bytes; the limit is ${lim.maxBytes}`)
  }
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0
  let p = start
  // The declaration comes first so that a Latin-1 document that says so is told about its
  // encoding, not about the first byte that happens to be invalid UTF-8.
  if (isXmlDeclaration(bytes, p)) p = readDeclaration(bytes, p)
  assertUtf8(bytes)
  // A plain Uint8Array view keeps the element loads monomorphic whether a Buffer or a
  // Uint8Array came in.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
  return new Scanner(view, lim).run(start, p)
}

class Scanner {
  private readonly b: Uint8Array
  private readonly n: number
  private readonly lim: XmlLimits
  private depth = 0
  private maxDepthSeen = 0
  private elements = 0
  private root: XmlScan['root'] = { prefix: '', localName: '', namespace: '' }

  constructor (b: Uint8Array, lim: XmlLimits) {
    this.b = b
    this.n = b.length
    this.lim = lim
  }

  run (start: number, from: number): XmlScan {
    let p = this.outside(from, false)
    if (p >= this.n) throw malformed('the document has no root element', p)
    p = this.content(p)
    this.outside(p, true)
    return { start, root: this.root, elements: this.elements, maxDepthSeen: this.maxDepthSeen }
  }

  /**
   * Prolog or epilog: white space, comments and processing instructions only (production
   * documents carry `<?xml-model?>` and `<?xml-stylesheet?>` there). Returns the offset of the
   * root's `<`.
   */
  private outside (p: number, after: boolean): number {
    const b = this.b
    const n = this.n
    while (p < n) {
      const c = b[p]
      if (IS_SPACE[c] !== 0) { p++; continue }
      if (c === LT) {
        const c1 = b[p + 1]
        if (c1 === BANG) { p = this.bang(p, false); continue }
        if (c1 === QMARK) { p = this.skipPi(p); continue }
        if (!after) return p
        throw new HubError('EGIF_ERR_XML_MULTIPLE_ROOTS', `a second element follows the root element (offset ${p})`, { offset: p })
      }
      if (TEXT[c] === CTRL) this.control(c, p)
      throw malformed(after ? 'text after the root element' : 'text before the root element', p)
    }
    return p
  }

  /** From the root's `<` to the byte after the root's end. */
  private content (p: number): number {
    const b = this.b
    const n = this.n
    p = this.startTag(p)
    // Where the current run of character data began: after the last tag or processing instruction.
    let seg = p
    while (this.depth > 0) {
      // Character data: the tightest loop, one table load per byte, four bytes a step while
      // all four are plain (PLAIN is 0, so their classes or-ed together are 0).
      while (p + 4 <= n && (TEXT[b[p]] | TEXT[b[p + 1]] | TEXT[b[p + 2]] | TEXT[b[p + 3]]) === PLAIN) p += 4
      while (p < n && TEXT[b[p]] === PLAIN) p++
      if (p >= n) throw malformed('the document ends inside an element', p)
      const c = b[p]
      const k = TEXT[c]
      if (k === CTRL) this.control(c, p)
      if (k === REF) { p = this.reference(p); continue }
      const c1 = b[p + 1]
      if (c1 === SLASH) seg = p = this.endTag(p)
      else if (c1 === BANG) p = this.bang(p, true)
      else if (c1 === QMARK) seg = p = this.piBetweenMarkup(p, seg)
      else seg = p = this.startTag(p)
    }
    return p
  }

  private startTag (p: number): number {
    const b = this.b
    const n = this.n
    if (++this.elements > this.lim.maxElements) {
      throw new HubError('EGIF_ERR_XML_TOO_MANY_NODES', `the document has more than ${this.lim.maxElements} elements`)
    }
    if (++this.depth > this.lim.maxDepth) {
      throw new HubError('EGIF_ERR_XML_TOO_DEEP', `elements nest deeper than ${this.lim.maxDepth} (offset ${p})`, { offset: p })
    }
    if (this.depth > this.maxDepthSeen) this.maxDepthSeen = this.depth
    const isRoot = this.elements === 1
    const nameStart = p + 1
    let q = nameStart
    while (q < n && NAME[b[q]] === PLAIN) q++
    if (q === nameStart || q >= n) throw malformed('an element has no name or is not closed', p)
    const root = isRoot ? new RootReader(b, nameStart, q) : undefined
    let attributes = 0
    for (;;) {
      while (q < n && IS_SPACE[b[q]] !== 0) q++
      if (q >= n) throw malformed('a start tag is not closed', p)
      const c = b[q]
      if (c === GT) {
        if (root !== undefined) this.root = root.finish()
        return q + 1
      }
      if (c === SLASH) {
        if (b[q + 1] !== GT) throw malformed('"/" inside a start tag', q)
        if (root !== undefined) this.root = root.finish()
        this.depth--
        return q + 2
      }
      if (++attributes > this.lim.maxAttributes) {
        throw new HubError('EGIF_ERR_XML_TOO_MANY_ATTRIBUTES', `an element has more than ${this.lim.maxAttributes} attributes (offset ${p})`, { offset: p })
      }
      const an = q
      while (q < n && NAME[b[q]] === PLAIN) q++
      const ae = q
      while (q < n && IS_SPACE[b[q]] !== 0) q++
      if (ae === an || b[q] !== EQ) throw malformed('an attribute is not name="value"', an)
      q++
      while (q < n && IS_SPACE[b[q]] !== 0) q++
      const quote = b[q]
      if (quote !== 0x22 && quote !== 0x27) throw malformed('an attribute value is not quoted', q)
      const vs = ++q
      for (;;) {
        if (q >= n) throw malformed('an attribute value is not closed', vs)
        const v = b[q]
        const k = ATTR_VALUE[v]
        if (k === PLAIN) { q++; continue }
        if (k === QUOTE) { if (v === quote) break; q++; continue }
        if (k === CTRL) this.control(v, q)
        if (k === REF) { q = this.reference(q); continue }
        throw malformed('"<" inside an attribute value', q)
      }
      if (root !== undefined) root.attribute(an, ae, vs, q)
      q++
    }
  }

  private endTag (p: number): number {
    const b = this.b
    const n = this.n
    // Element names are not compared here: libxml2 refuses mismatched tags. The name is skipped
    // with the name table (which stops at control characters too); the rest is checked below.
    let q = p + 2
    while (q < n && NAME[b[q]] === PLAIN) q++
    while (q < n && b[q] !== GT) {
      if (b[q] === LT) break
      if (TEXT[b[q]] === CTRL) this.control(b[q], q)
      q++
    }
    if (q >= n || b[q] !== GT) throw malformed('an end tag is not closed', p)
    this.depth--
    return q + 1
  }

  /** `<!`: a comment, CDATA (only inside the root) or a markup declaration, which is refused. */
  private bang (p: number, inContent: boolean): number {
    const b = this.b
    const n = this.n
    if (b[p + 2] === DASH && b[p + 3] === DASH) {
      let q = p + 4
      for (;;) {
        if (q >= n) throw malformed('a comment is not closed', p)
        const c = b[q]
        if (c === DASH && b[q + 1] === DASH) {
          if (b[q + 2] !== GT) throw malformed('"--" inside a comment', q)
          return q + 3
        }
        if (TEXT[c] === CTRL) this.control(c, q)
        q++
      }
    }
    if (startsWith(b, p + 2, '[CDATA[')) {
      if (!inContent) throw malformed('a CDATA section outside the root element', p)
      let q = p + 9
      for (;;) {
        if (q >= n) throw malformed('a CDATA section is not closed', p)
        const c = b[q]
        if (c === RSQB && b[q + 1] === RSQB && b[q + 2] === GT) return q + 3
        if (TEXT[c] === CTRL) this.control(c, q)
        q++
      }
    }
    for (const decl of ['DOCTYPE', 'ENTITY', 'ELEMENT', 'ATTLIST', 'NOTATION']) {
      if (startsWith(b, p + 2, decl, true)) {
        throw new HubError('EGIF_ERR_XML_DOCTYPE', `<!${decl} at offset ${p}: DTDs and entity declarations are refused`, { offset: p })
      }
    }
    throw malformed('"<!" that starts neither a comment nor a CDATA section', p)
  }

  private pi (p: number, why = 'is refused'): never {
    const b = this.b
    let q = p + 2
    while (q < this.n && q < p + 66 && NAME[b[q]] === PLAIN && b[q] !== QMARK) q++
    const target = String.fromCharCode(...b.subarray(p + 2, q))
    const where = target.toLowerCase() === 'xml' ? 'an XML declaration that is not at the start of the document' : `the processing instruction <?${target}?>`
    throw new HubError('EGIF_ERR_XML_PROCESSING_INSTRUCTION', `${where} (offset ${p}) ${target.toLowerCase() === 'xml' ? 'is refused' : why}`, { offset: p })
  }

  /**
   * A processing instruction inside the root is accepted only between markup, with nothing but
   * white space between it and the tags around it. One that splits character data
   * (`<Amount>1<?x?>00</Amount>`) is the signature trap of DESIGN §5: a reader that takes the first
   * text node sees another value than the one signed.
   */
  private piBetweenMarkup (p: number, seg: number): number {
    const b = this.b
    for (let i = seg; i < p; i++) if (IS_SPACE[b[i]] === 0) this.pi(p, 'splits character data')
    const end = this.skipPi(p)
    let q = end
    while (q < this.n && IS_SPACE[b[q]] !== 0) q++
    // Followed by a tag or another processing instruction; not by text, a reference, CDATA or a comment.
    if (b[q] !== LT || b[q + 1] === BANG) this.pi(p, 'splits character data')
    return end
  }

  private skipPi (p: number): number {
    const b = this.b
    let q = p + 2
    while (q < this.n && NAME[b[q]] === PLAIN && b[q] !== QMARK) q++
    // The target "xml" (in any case) is reserved for the declaration: a second one is refused.
    if (q - (p + 2) === 3 && startsWith(b, p + 2, 'XML', true)) this.pi(p)
    for (;;) {
      if (q >= this.n) throw malformed('a processing instruction is not closed', p)
      const c = b[q]
      if (c === QMARK && b[q + 1] === GT) return q + 2
      if (TEXT[c] === CTRL) this.control(c, q)
      q++
    }
  }

  /** `&`: checks character references; entity references are left for libxml2 to refuse. */
  private reference (p: number): number {
    const b = this.b
    if (b[p + 1] !== HASH) return p + 1
    let q = p + 2
    const hex = b[q] === 0x78
    if (hex) q++
    const digitsStart = q
    let value = 0
    for (;;) {
      const c = b[q]
      let d: number
      if (c >= 0x30 && c <= 0x39) d = c - 0x30
      else if (hex && c >= 0x61 && c <= 0x66) d = c - 0x57
      else if (hex && c >= 0x41 && c <= 0x46) d = c - 0x37
      else break
      value = value * (hex ? 16 : 10) + d
      if (value > 0x10ffff) throw malformed('a character reference beyond U+10FFFF', p)
      q++
    }
    if (q === digitsStart || b[q] !== SEMI) throw malformed('a character reference is not well-formed', p)
    if (value < 0x20 && value !== 0x09 && value !== 0x0a && value !== 0x0d) this.control(value, p, true)
    return q + 1
  }

  private control (c: number, at: number, asReference = false): never {
    const hex = c.toString(16).toUpperCase().padStart(2, '0')
    throw new HubError('EGIF_ERR_XML_CONTROL_CHAR',
      `${asReference ? `the character reference to U+00${hex}` : `the control character U+00${hex}`} at offset ${at}: XML 1.0 forbids it`, { offset: at })
  }
}

function startsWith (b: Uint8Array, p: number, ascii: string, ignoreCase = false): boolean {
  if (p + ascii.length > b.length) return false
  for (let i = 0; i < ascii.length; i++) {
    let c = b[p + i]
    if (ignoreCase && c >= 0x61 && c <= 0x7a) c -= 0x20
    if (c !== ascii.charCodeAt(i)) return false
  }
  return true
}

/** Collects the root element's name and the namespace declaration its prefix needs. */
class RootReader {
  private readonly b: Uint8Array
  readonly prefix: string
  readonly localName: string
  private namespace: string | undefined

  constructor (b: Uint8Array, nameStart: number, nameEnd: number) {
    this.b = b
    const name = decode(b, nameStart, nameEnd)
    const colon = name.indexOf(':')
    this.prefix = colon < 0 ? '' : name.slice(0, colon)
    this.localName = colon < 0 ? name : name.slice(colon + 1)
  }

  attribute (an: number, ae: number, vs: number, ve: number): void {
    // Only xmlns attributes are decoded; everything else stays bytes.
    if (!startsWith(this.b, an, 'xmlns')) return
    const wanted = this.prefix === '' ? 'xmlns' : `xmlns:${this.prefix}`
    if (ae - an !== wanted.length || !startsWith(this.b, an, wanted)) return
    this.namespace = attributeValue(decode(this.b, vs, ve))
  }

  finish (): XmlScan['root'] {
    let namespace = this.namespace
    if (namespace === undefined) {
      if (this.prefix === 'xml') namespace = 'http://www.w3.org/XML/1998/namespace'
      else if (this.prefix === '') namespace = ''
      else throw malformed(`the root element's namespace prefix "${this.prefix}" is not declared`, 0)
    }
    return { prefix: this.prefix, localName: this.localName, namespace }
  }
}

const utf8 = new TextDecoder()
function decode (b: Uint8Array, s: number, e: number): string {
  return utf8.decode(b.subarray(s, e))
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/**
 * The value of an attribute as XML 1.0 §3.3.3 normalizes it (white space to spaces, character
 * and predefined entity references replaced). The scanner has already checked the references.
 */
function attributeValue (raw: string): string {
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]
    if (ch === '\r' && raw[i + 1] === '\n') continue // line ends are normalized to LF first
    if (ch === '\t' || ch === '\n' || ch === '\r') { out += ' '; continue }
    if (ch !== '&') { out += ch; continue }
    const semi = raw.indexOf(';', i)
    const ref = raw.slice(i + 1, semi)
    i = semi
    if (ref.startsWith('#x')) out += String.fromCodePoint(parseInt(ref.slice(2), 16))
    else if (ref.startsWith('#')) out += String.fromCodePoint(parseInt(ref.slice(1), 10))
    else out += PREDEFINED[ref] ?? `&${ref};` // libxml2 refuses undeclared entities
  }
  return out
}
