import { XmlC14NMode, type XmlDocument } from 'libxml2-wasm'
import * as raw from 'libxml2-wasm/lib/libxml2.mjs'
import type { C14nMethod } from './algorithms.js'
import {
  ELEMENT, documentPointer, firstAttribute, firstChild, namespaceIs, nextSibling, nodeType, parentNode, relinkFirstChild,
  relinkNextSibling, rootElement, type NodePtr
} from './native.js'

/**
 * Canonicalization with libxml2's `xmlC14NExecute`, for the node-sets an XML signature needs: the
 * whole document (`URI=""`) or the root element (`#id`), each without the enveloped Signature, and
 * one subtree (SignedInfo, SignedProperties).
 *
 * libxml2 walks the tree from the document's first child along `children` and `next` links and,
 * when it is given a visibility callback, asks it about every node, namespace and attribute it
 * meets, even inside subtrees that are left out. Rather than answer for a whole document from JS,
 * the walk is limited to the node-set: for the duration of the call the links that lead into what
 * is left out are bent around it, and restored before anything else can see the tree (libxml2 is
 * synchronous and runs on this thread). Parent links are never touched, so the namespace
 * declarations and `xml:` attributes in scope are found exactly as before.
 *
 * - Document or root without the Signature: the link to the Signature skips it (and, for the
 *   root alone, the document's first child is the root and nothing follows it). Every node libxml2
 *   then meets is in the node-set, so no callback is needed: it canonicalizes what it walks.
 * - A subtree: the document's first child is the subtree and nothing follows it. A callback is
 *   needed only when C14N 1.0 or 1.1 would copy `xml:` attributes of ancestors onto the subtree's
 *   apex, and is then asked about the subtree's own nodes only.
 *
 * `test/crypto/xmldsig-c14n.test.ts` compares every case with libxml2-wasm's public
 * canonicalization of the same node-set, which asks the callback about every node.
 */

/** Receives canonical octets as libxml2 produces them; the chunk is only valid during the call. */
export interface OctetSink {
  update: (chunk: Uint8Array) => unknown
}

/** Runtime exports of libxml2-wasm's internal module that its typings leave out. */
const internals = raw as unknown as {
  addFunction: (fn: (...args: number[]) => number, sig: string) => number
  xmlOutputBufferCreateIO: (handler: { write: (buf: Uint8Array) => number, close: () => boolean }) => number
  allocCStringArray: (strings: string[]) => number
}

/*
 * A wasm function-table entry is never released, so the callback is registered once per process
 * (as libxml2-wasm does for its own callbacks). It answers for one subtree at a time: libxml2 asks
 * about parents before children, so a node is visible when it is the subtree's apex or its parent
 * (the owning element, for attributes and namespaces) was visible.
 */
let apex: NodePtr = 0
const visible = new Set<number>()
let visibleCallback = 0

function callbackPointer (): number {
  if (visibleCallback === 0) {
    visibleCallback = internals.addFunction((_user: number, node: number, parent: number): number => {
      if (node === apex || (parent !== 0 && visible.has(parent))) {
        visible.add(node)
        return 1
      }
      return 0
    }, 'iiii')
  }
  return visibleCallback
}

// One output handler for every call, passing the octets to the sink of the call running now.
let currentSink: OctetSink | undefined
const output = {
  write (buf: Uint8Array): number {
    currentSink!.update(buf)
    return buf.byteLength
  },
  close (): boolean {
    return true
  }
}

function execute (docPtr: number, callback: number, method: C14nMethod, sink: OctetSink, prefixes: readonly string[] | undefined): void {
  currentSink = sink
  const out = internals.xmlOutputBufferCreateIO(output)
  let prefixPtr = 0
  try {
    if (prefixes !== undefined && prefixes.length > 0) prefixPtr = internals.allocCStringArray([...prefixes])
    const rc = raw.xmlC14NExecute(docPtr, callback, callback === 0 ? 0 : 1, method.mode, prefixPtr, method.withComments ? 1 : 0, out)
    if (rc < 0) throw new Error('libxml2 could not canonicalize the document')
  } finally {
    raw.xmlOutputBufferClose(out)
    currentSink = undefined
    if (prefixPtr !== 0) raw.free(prefixPtr)
  }
}

/** The node whose `next` link leads to `node`, or 0 when `node` is its parent's first child. */
function previousSibling (node: NodePtr): NodePtr {
  let prev = 0
  for (let c = firstChild(parentNode(node)); c !== node; c = nextSibling(c)) {
    if (c === 0) throw new Error('a node is not among its parent\'s children')
    prev = c
  }
  return prev
}

/**
 * Canonicalizes the whole document (`scope` 'document': with its prolog and epilog, as `URI=""`
 * selects it) or the root element alone (`scope` 'root', as `#id` of the root does), leaving out
 * the subtree at `without` (0: nothing), which must be a child of the root.
 */
export function canonicalizeDocument (doc: XmlDocument, scope: 'document' | 'root', without: NodePtr, method: C14nMethod, sink: OctetSink, prefixes?: readonly string[]): void {
  const docPtr = documentPointer(doc)
  const root = rootElement(docPtr)
  if (without !== 0 && parentNode(without) !== root) throw new Error('only a child of the root element can be left out')
  const prev = without === 0 ? 0 : previousSibling(without)
  let savedFirst = 0
  let savedNext = 0
  if (scope === 'root') {
    savedFirst = relinkFirstChild(docPtr, root)
    savedNext = relinkNextSibling(root, 0)
  }
  if (without !== 0) {
    if (prev === 0) relinkFirstChild(root, nextSibling(without))
    else relinkNextSibling(prev, nextSibling(without))
  }
  try {
    execute(docPtr, 0, method, sink, prefixes)
  } finally {
    if (without !== 0) {
      if (prev === 0) relinkFirstChild(root, without)
      else relinkNextSibling(prev, without)
    }
    if (scope === 'root') {
      relinkNextSibling(root, savedNext)
      relinkFirstChild(docPtr, savedFirst)
    }
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace'

/** True when an ancestor of `el` carries an attribute in the xml namespace (xml:lang, xml:space, xml:base…). */
function ancestorsHaveXmlAttributes (el: NodePtr): boolean {
  for (let a = parentNode(el); a !== 0 && nodeType(a) === ELEMENT; a = parentNode(a)) {
    for (let attr = firstAttribute(a); attr !== 0; attr = nextSibling(attr)) if (namespaceIs(attr, XML_NS)) return true
  }
  return false
}

/**
 * Canonicalizes the subtree at `el` as a document subset (with the namespace context its ancestors
 * give it). The callback is only needed where the subset differs from a document rooted at `el`:
 * C14N 1.0 and 1.1 copy the `xml:` attributes of ancestors outside the subset onto its apex, so
 * when an ancestor has one, libxml2 must be told that the ancestors are not in the subset.
 * Otherwise (and always for exclusive C14N, which copies nothing) what libxml2 walks is the subset.
 */
export function canonicalizeSubtree (doc: XmlDocument, el: NodePtr, method: C14nMethod, sink: OctetSink, prefixes?: readonly string[]): void {
  const docPtr = documentPointer(doc)
  const needsCallback = method.mode !== XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 && ancestorsHaveXmlAttributes(el)
  const callback = needsCallback ? callbackPointer() : 0
  if (apex !== 0) throw new Error('canonicalizeSubtree is not reentrant')
  const savedFirst = relinkFirstChild(docPtr, el)
  const savedNext = relinkNextSibling(el, 0)
  apex = el
  try {
    execute(docPtr, callback, method, sink, prefixes)
  } finally {
    apex = 0
    visible.clear()
    relinkNextSibling(el, savedNext)
    relinkFirstChild(docPtr, savedFirst)
  }
}

/** Collects canonical octets into one Buffer. */
export class OctetCollector implements OctetSink {
  private readonly chunks: Buffer[] = []
  update (chunk: Uint8Array): void { this.chunks.push(Buffer.from(chunk)) }
  bytes (): Buffer { return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks) }
}
