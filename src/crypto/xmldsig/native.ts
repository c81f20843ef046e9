import type { XmlDocument } from 'libxml2-wasm'
import * as raw from 'libxml2-wasm/lib/libxml2.mjs'

/**
 * Read-only access to a libxml2-wasm document through node pointers.
 *
 * Verification walks every node of the document (to count signatures, find Ids and processing
 * instructions) and canonicalizes it twice. Through the public object API each visited node is a
 * fresh JS object, and a C14N visibility callback costs one object per node: that alone made
 * verification 3–4× slower. Reading the libxml2 structs by pointer allocates nothing.
 *
 * This leans on libxml2-wasm's internal module (`lib/libxml2.mjs`, 0.7.x); a test compares the
 * canonical output with the public `canonicalizeToString` so an upgrade that changes it is caught.
 */

export type NodePtr = number

export const ELEMENT = 1
export const TEXT = 3
export const CDATA = 4
export const ENTITY_REF = 5
export const PI = 7
export const COMMENT = 8

const S = raw.XmlTreeCommonStruct
const N = raw.XmlNodeStruct

/** The libxml2 pointer behind a parsed document (libxml2-wasm keeps it in `_ptr`). */
export function documentPointer (doc: XmlDocument): number {
  return (doc as unknown as { _ptr: number })._ptr
}

export function rootElement (docPtr: number): NodePtr {
  return raw.xmlDocGetRootElement(docPtr)
}

export const nodeType = (p: NodePtr): number => S.type(p)
export const firstChild = (p: NodePtr): NodePtr => S.children(p)
export const nextSibling = (p: NodePtr): NodePtr => S.next(p)
export const parentNode = (p: NodePtr): NodePtr => S.parent(p)
export const localName = (p: NodePtr): string => S.name_(p)

/** Namespace URI of an element or attribute, '' when it has none. */
export function namespaceUri (p: NodePtr): string {
  const ns = N.namespace(p)
  return ns === 0 ? '' : raw.XmlNsStruct.href(ns)
}

export function isElement (p: NodePtr, ns: string, name: string): boolean {
  return S.type(p) === ELEMENT && S.name_(p) === name && namespaceUri(p) === ns
}

/** First attribute node of an element (0 when none); iterate with `nextSibling`. */
export const firstAttribute = (p: NodePtr): NodePtr => N.properties(p)

/** The value of an attribute node. */
export const attributeValue = (attr: NodePtr): string => raw.xmlNodeGetContent(attr)

/** The value of the attribute `name` in no namespace, or null when absent. */
export function attribute (el: NodePtr, name: string): string | null {
  for (let a = N.properties(el); a !== 0; a = S.next(a)) {
    if (S.name_(a) === name && N.namespace(a) === 0) return raw.xmlNodeGetContent(a)
  }
  return null
}

/** Text content of a node (concatenated descendant text). */
export const textContent = (p: NodePtr): string => raw.xmlNodeGetContent(p)

/** Element children of `p`; `other` receives every non-element child (text, comment, PI…). */
export function childElements (p: NodePtr, other?: (child: NodePtr, type: number) => void): NodePtr[] {
  const out: NodePtr[] = []
  for (let c = S.children(p); c !== 0; c = S.next(c)) {
    const t = S.type(c)
    if (t === ELEMENT) out.push(c)
    else if (other !== undefined) other(c, t)
  }
  return out
}
