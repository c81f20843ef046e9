import { XmlDocument, XmlElement } from 'libxml2-wasm'

/**
 * Large code lists as automata.
 *
 * libxml2 checks an `xs:enumeration` facet by comparing the value with each enumerated value in
 * turn (and walks the whole facet list once more for the other facets), so a type with thousands
 * of values costs thousands of comparisons per element: the ETDA e-Tax `CitySubDivisionName`
 * list has 8,936 values, and two such elements made validating an invoice take ~1.7 ms of its
 * ~1.9 ms. An invalid value costs far more: libxml2 builds its message by appending every value
 * to a string, one reallocation each.
 *
 * When a schema is compiled, a restriction of `xs:string`, `xs:normalizedString` or `xs:token`
 * whose only facets are many enumerations is rewritten to one `xs:pattern` that accepts exactly
 * the same values: a prefix tree written as a regular expression (`1(0(01|02)|1)`), which libxml2
 * compiles into a deterministic automaton and runs in one step per character. The two accept the
 * same values because the enumerated values are already in the normalized form of their base
 * type (checked below; lists whose values are not are left alone) and libxml2 applies a pattern to
 * the normalized value, as XML Schema 1.0 §4.3.4 says. Restrictions that also carry a pattern are
 * left alone too: patterns of one derivation step are alternatives, so adding one would widen the
 * type. `test/xml/xsd-enumerations.test.ts` compares both forms value by value.
 */

export const XSD_NS = 'http://www.w3.org/2001/XMLSchema'

/** Below this many values the linear check costs less than it is worth rewriting. */
export const MIN_ENUMERATION_VALUES = 32

/** The string types whose enumeration is a comparison of strings (no value space of their own). */
const STRING_BASES = new Set(['string', 'normalizedString', 'token'])

/** What became of one rewritten code list, to explain a refusal in enumeration terms. */
export interface CompactedEnumeration {
  /** `{namespace}name` of the simple type, or the file and line of an anonymous one. */
  type: string
  /** The enumerated values, in schema order, duplicates removed. */
  values: string[]
  /** The `xs:pattern` value that replaced them. */
  pattern: string
}

/** Characters that mean something in an XML Schema regular expression (Appendix F, SingleCharEsc). */
const META = new Set(['\\', '|', '.', '?', '*', '+', '(', ')', '{', '}', '[', ']', '-', '^'])

function escapeChar (ch: string): string {
  return META.has(ch) ? '\\' + ch : ch
}

/** One character, or a class of several (`[0-9]`, `[ACE]`), from their code points. */
function charClass (codePoints: number[]): string {
  if (codePoints.length === 1) return escapeChar(String.fromCodePoint(codePoints[0]))
  const sorted = [...codePoints].sort((a, b) => a - b)
  let out = ''
  for (let i = 0; i < sorted.length;) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    const from = escapeChar(String.fromCodePoint(sorted[i]))
    const to = escapeChar(String.fromCodePoint(sorted[j]))
    // a run of three or more is a range; two stay two characters
    out += j - i >= 2 ? `${from}-${to}` : j === i ? from : from + to
    i = j + 1
  }
  return `[${out}]`
}

interface TrieNode {
  end: boolean
  next: Map<string, TrieNode>
}

/**
 * A regular expression matching exactly the given strings. Each branch point of the prefix tree
 * is one group whose alternatives start with distinct characters, so the automaton is
 * deterministic; the nesting depth is the number of branch points on the longest path.
 */
export function enumerationPattern (values: readonly string[]): string {
  const root: TrieNode = { end: false, next: new Map() }
  for (const v of values) {
    let n = root
    for (const ch of v) { // code points, not UTF-16 units
      let child = n.next.get(ch)
      if (child === undefined) {
        child = { end: false, next: new Map() }
        n.next.set(ch, child)
      }
      n = child
    }
    n.end = true
  }
  // Iterative post-order walk, so that a long value cannot exhaust the stack.
  const out = new Map<TrieNode, string>()
  const stack: Array<{ node: TrieNode, visited: boolean }> = [{ node: root, visited: false }]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (!top.visited) {
      top.visited = true
      for (const child of top.node.next.values()) stack.push({ node: child, visited: false })
      continue
    }
    stack.pop()
    // Children that continue alike share one branch: their first characters become a class.
    const bySuffix = new Map<string, number[]>()
    for (const [ch, child] of top.node.next) {
      const suffix = out.get(child)!
      let chars = bySuffix.get(suffix)
      if (chars === undefined) bySuffix.set(suffix, chars = [])
      chars.push(ch.codePointAt(0)!)
    }
    const alternatives = [...bySuffix].map(([suffix, chars]) => charClass(chars) + suffix).sort()
    let s = alternatives.length === 0 ? '' : alternatives.length === 1 ? alternatives[0] : `(${alternatives.join('|')})`
    if (top.node.end && alternatives.length > 0) s = `(${s})?`
    out.set(top.node, s)
  }
  return out.get(root)!
}

/** The value as `xs:token` normalizes it; a value equal to it is normalized for all three bases. */
function collapsed (v: string): string {
  return v.replace(/[\t\n\r ]+/g, ' ').replace(/^ | $/g, '')
}

function isXsd (el: XmlElement, name: string): boolean {
  return el.name === name && el.namespaceUri === XSD_NS
}

function elementChildren (el: XmlElement): XmlElement[] {
  const out: XmlElement[] = []
  for (let c = el.firstChild; c !== null; c = c.next) if (c instanceof XmlElement) out.push(c)
  return out
}

/** The base type's local name when it is one of the XSD built-in string types, else null. */
function stringBase (restriction: XmlElement): string | null {
  const base = restriction.attr('base')?.value
  if (base === undefined) return null
  const colon = base.indexOf(':')
  const prefix = colon < 0 ? '' : base.slice(0, colon)
  const local = colon < 0 ? base : base.slice(colon + 1)
  const ns = restriction.namespaceForPrefix(prefix)
  return ns === XSD_NS && STRING_BASES.has(local) ? local : null
}

function typeName (restriction: XmlElement, file: string, targetNamespace: string): string {
  const simpleType = restriction.parent
  const name = simpleType?.attr('name')?.value
  return name !== undefined ? `{${targetNamespace}}${name}` : `an anonymous type at ${file}:${restriction.line}`
}

/**
 * Rewrites the large code lists of one schema document. Returns null when there is nothing to
 * rewrite (or the bytes do not parse: libxml2 reports that itself when it compiles the original).
 */
export function compactEnumerations (bytes: Uint8Array, file: string, parseOptions: number, min = MIN_ENUMERATION_VALUES): { bytes: Buffer, lists: CompactedEnumeration[] } | null {
  if (countEnumerationTags(bytes) < min) return null
  let doc: XmlDocument
  try {
    doc = XmlDocument.fromBuffer(bytes, { url: file, option: parseOptions })
  } catch {
    return null
  }
  try {
    const root = doc.root
    const targetNamespace = root.attr('targetNamespace')?.value ?? ''
    const lists: CompactedEnumeration[] = []
    for (const restriction of doc.find('//xs:simpleType/xs:restriction', { xs: XSD_NS })) {
      if (!(restriction instanceof XmlElement) || stringBase(restriction) === null) continue
      const children = elementChildren(restriction)
      const enumerations: XmlElement[] = []
      let ok = true
      for (const [i, c] of children.entries()) {
        if (isXsd(c, 'enumeration')) enumerations.push(c)
        else if (!(i === 0 && isXsd(c, 'annotation'))) { ok = false; break } // another facet, or a pattern
      }
      if (!ok || enumerations.length < min) continue
      const values: string[] = []
      for (const e of enumerations) {
        const v = e.attr('value')?.value
        if (v === undefined || collapsed(v) !== v) { ok = false; break }
        values.push(v)
      }
      if (!ok) continue
      const distinct = [...new Set(values)]
      const pattern = enumerationPattern(distinct)
      const prefix = enumerations[0].prefix
      for (const e of enumerations) e.remove()
      restriction.addElement('pattern', prefix === '' ? undefined : prefix).setAttr('value', pattern)
      lists.push({ type: typeName(restriction, file, targetNamespace), values: distinct, pattern })
    }
    if (lists.length === 0) return null
    const chunks: Buffer[] = []
    doc.save({ write: (buf: Uint8Array) => { chunks.push(Buffer.from(buf)); return buf.byteLength }, close: () => true }, { format: false, encoding: 'utf-8' })
    return { bytes: Buffer.concat(chunks), lists }
  } finally {
    doc.dispose()
  }
}

const TAG = Buffer.from('enumeration')

/** Occurrences of "enumeration" in the bytes: an upper bound of the enumeration facets, cheaply. */
function countEnumerationTags (bytes: Uint8Array): number {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let n = 0
  for (let i = b.indexOf(TAG); i >= 0; i = b.indexOf(TAG, i + TAG.length)) n++
  return n
}
