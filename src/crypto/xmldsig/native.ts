import type { XmlDocument } from 'libxml2-wasm'
import * as raw from 'libxml2-wasm/lib/libxml2.mjs'

/**
 * Read-only access to a libxml2-wasm document through node pointers, reading the libxml2 structs
 * straight from the wasm heap.
 *
 * Verification walks every node of the document (to count signatures, find Ids and processing
 * instructions). Through the public object API each visited node is a fresh JS object; through the
 * struct accessors of libxml2-wasm's internal module each field is a function call and each name a
 * UTF-8 decode in emscripten's runtime. Here a field is one typed-array load and a name is compared
 * byte for byte where it is only tested, decoded (ASCII without a decoder) where it is kept.
 *
 * This leans on libxml2-wasm's internal module (`lib/libxml2.mjs`, 0.7.x) and on the wasm32 layout
 * of libxml2's xmlNode, xmlAttr, xmlNs and xmlDoc; tests compare these reads with the public API
 * and the canonical output with the public `canonicalizeToString`, so an upgrade that changes
 * either is caught.
 */

export type NodePtr = number

export const ELEMENT = 1
export const ATTRIBUTE = 2
export const TEXT = 3
export const CDATA = 4
export const ENTITY_REF = 5
export const PI = 7
export const COMMENT = 8

// Offsets of the fields read here (wasm32: every pointer and int is 4 bytes). xmlNode, xmlAttr
// and xmlDoc share the first nine fields; `content` and `properties` are xmlNode's.
const TYPE = 4
const NAME = 8
const CHILDREN = 12
const PARENT = 20
const NEXT = 24
const NS = 36
const CONTENT = 40
const PROPERTIES = 44
const NS_HREF = 8

// Views onto the wasm memory. A growth of the memory (any libxml2 allocation may cause one)
// detaches the ArrayBuffer they view, which leaves them with length 0: they are fetched again then.
let heap32: Int32Array = new Int32Array(0)
// A Buffer rather than a Uint8Array view: Buffer's indexOf and toString are native and several
// times faster on short strings than TypedArray.prototype.indexOf and a TextDecoder.
let heapU8: Buffer = Buffer.alloc(0)

function refresh (): void {
  // libxml2-wasm exports no handle on its memory; XmlNodeSetStruct.nodeTable returns a view of
  // its HEAP32 (here an empty one), and the view's buffer is the memory itself.
  const buffer = raw.XmlNodeSetStruct.nodeTable(0, 0).buffer as ArrayBuffer
  heap32 = new Int32Array(buffer)
  heapU8 = Buffer.from(buffer)
}

function words (): Int32Array {
  if (heap32.length === 0) refresh()
  return heap32
}

function bytes (): Buffer {
  if (heapU8.length === 0) refresh()
  return heapU8
}

const field = (p: NodePtr, offset: number): number => words()[(p + offset) >> 2]

/** The libxml2 pointer behind a parsed document (libxml2-wasm keeps it in `_ptr`). */
export function documentPointer (doc: XmlDocument): number {
  return (doc as unknown as { _ptr: number })._ptr
}

export function rootElement (docPtr: number): NodePtr {
  return raw.xmlDocGetRootElement(docPtr)
}

export const nodeType = (p: NodePtr): number => field(p, TYPE)
export const firstChild = (p: NodePtr): NodePtr => field(p, CHILDREN)
export const nextSibling = (p: NodePtr): NodePtr => field(p, NEXT)
export const parentNode = (p: NodePtr): NodePtr => field(p, PARENT)
/** First attribute node of an element (0 when none); iterate with `nextSibling`. */
export const firstAttribute = (p: NodePtr): NodePtr => field(p, PROPERTIES)

/** The NUL-terminated UTF-8 string at `s`. */
function cString (s: number): string {
  const b = bytes()
  return b.toString('utf8', s, b.indexOf(0, s))
}

/** True when the NUL-terminated string at `s` is exactly `ascii` (which is ASCII). */
function cStringIs (s: number, ascii: string): boolean {
  if (s === 0) return false
  const b = bytes()
  const n = ascii.length
  for (let i = 0; i < n; i++) if (b[s + i] !== ascii.charCodeAt(i)) return false
  return b[s + n] === 0
}

/** Local name of an element, attribute or processing instruction. */
export const localName = (p: NodePtr): string => cString(field(p, NAME))

/** True when the local name of `p` is `name` (ASCII), without decoding it. */
export const localNameIs = (p: NodePtr, name: string): boolean => cStringIs(field(p, NAME), name)

/** Namespace URI of an element or attribute, '' when it has none. */
export function namespaceUri (p: NodePtr): string {
  const ns = field(p, NS)
  return ns === 0 ? '' : cString(field(ns, NS_HREF))
}

/** True when `p` is in the namespace `uri` (ASCII; '' for none), without decoding it. */
export function namespaceIs (p: NodePtr, uri: string): boolean {
  const ns = field(p, NS)
  if (ns === 0) return uri === ''
  return cStringIs(field(ns, NS_HREF), uri)
}

export function isElement (p: NodePtr, ns: string, name: string): boolean {
  return field(p, TYPE) === ELEMENT && localNameIs(p, name) && namespaceIs(p, ns)
}

/**
 * The value of an attribute node. A parsed attribute holds its value as one text child; anything
 * else (none, several) is left to libxml2.
 */
export function attributeValue (attr: NodePtr): string {
  const text = field(attr, CHILDREN)
  if (text !== 0 && field(text, NEXT) === 0 && field(text, TYPE) === TEXT) return cString(field(text, CONTENT))
  return raw.xmlNodeGetContent(attr)
}

/** The value of the attribute `name` in no namespace, or null when absent. */
export function attribute (el: NodePtr, name: string): string | null {
  for (let a = field(el, PROPERTIES); a !== 0; a = field(a, NEXT)) {
    if (field(a, NS) === 0 && localNameIs(a, name)) return attributeValue(a)
  }
  return null
}

/** Text content of a node: a text or CDATA node's own text, else the concatenated descendant text. */
export function textContent (p: NodePtr): string {
  const t = field(p, TYPE)
  if (t === TEXT || t === CDATA) return cString(field(p, CONTENT))
  return raw.xmlNodeGetContent(p)
}

/**
 * True when a text or CDATA node is blank as `String.prototype.trim` sees it. ASCII is read in
 * place (the only ASCII white space XML allows in text is space, tab, LF and CR); text with other
 * characters is decoded, since trim also removes Unicode spaces.
 */
export function isBlankText (p: NodePtr): boolean {
  const b = bytes()
  const s = field(p, CONTENT)
  for (let i = s; ; i++) {
    const c = b[i]
    if (c === 0) return true
    if (c >= 0x80) return cString(s).trim() === ''
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return false
  }
}

/** Element children of `p`; `other` receives every non-element child (text, comment, PI…). */
export function childElements (p: NodePtr, other?: (child: NodePtr, type: number) => void): NodePtr[] {
  const out: NodePtr[] = []
  for (let c = field(p, CHILDREN); c !== 0; c = field(c, NEXT)) {
    const t = field(c, TYPE)
    if (t === ELEMENT) out.push(c)
    else if (other !== undefined) other(c, t)
  }
  return out
}

/**
 * Rewrites the `children` link of a node or document, or the `next` link of a node, for the
 * duration of one libxml2 call that walks the tree (see c14n.ts). Returns the previous value.
 * The caller restores it before anything else can see the tree.
 */
export function relinkFirstChild (p: NodePtr, child: NodePtr): NodePtr {
  const w = words()
  const old = w[(p + CHILDREN) >> 2]
  w[(p + CHILDREN) >> 2] = child
  return old
}

export function relinkNextSibling (p: NodePtr, next: NodePtr): NodePtr {
  const w = words()
  const old = w[(p + NEXT) >> 2]
  w[(p + NEXT) >> 2] = next
  return old
}
