import type { XmlDocument } from 'libxml2-wasm'
import * as raw from 'libxml2-wasm/lib/libxml2.mjs'
import type { C14nMethod } from './algorithms.js'
import { documentPointer, type NodePtr } from './native.js'

/**
 * Canonicalization of a document node-set with libxml2's `xmlC14NExecute`, for the two node-sets an
 * XML signature needs: the whole document minus one subtree (a same-document reference with the
 * enveloped-signature transform), the root minus one subtree (`#id` of the root, enveloped) and one
 * subtree alone (SignedInfo, SignedProperties).
 *
 * libxml2 asks a visibility callback about every node it meets, parents before children; the
 * callback here compares pointers and remembers only the nodes that switch visibility, so it
 * allocates next to nothing per node.
 */

/** Receives canonical octets as libxml2 produces them; the chunk is only valid during the call. */
export interface OctetSink {
  update: (chunk: Uint8Array) => unknown
}

interface Selection {
  /** The subtree to canonicalize; 0: the whole document. */
  include: NodePtr
  /** A subtree left out (the enveloped Signature); 0: none. */
  exclude: NodePtr
  /**
   * Nodes whose visibility differs from the default (visible for a whole document, invisible for
   * a subtree), so their descendants inherit it; libxml2 always asks about parents first.
   */
  marked: Map<number, number>
}

/** Runtime exports of libxml2-wasm's internal module that its typings leave out. */
const internals = raw as unknown as {
  addFunction: (fn: (...args: number[]) => number, sig: string) => number
  xmlOutputBufferCreateIO: (handler: { write: (buf: Uint8Array) => number, close: () => boolean }) => number
  allocCStringArray: (strings: string[]) => number
}
const addFunction = internals.addFunction

/*
 * A wasm function-table entry is never released, so the callback is registered once per process
 * (as libxml2-wasm does for its own callbacks); the selections it consults are passed by index.
 */
const selections: Array<Selection | undefined> = []
let visibleCallback = 0

function callbackPointer (): number {
  if (visibleCallback === 0) {
    visibleCallback = addFunction((index: number, node: number, parent: number): number => {
      const sel = selections[index]!
      const fallback = sel.include === 0 ? 1 : 0
      let visible: number
      if (node === sel.exclude) visible = 0
      else if (node === sel.include) visible = 1
      else visible = (parent !== 0 ? sel.marked.get(parent) : undefined) ?? fallback
      if (visible !== fallback) sel.marked.set(node, visible)
      return visible
    }, 'iiii')
  }
  return visibleCallback
}

function run (doc: XmlDocument, sel: Selection, method: C14nMethod, sink: OctetSink, prefixes: readonly string[] | undefined): void {
  const cb = callbackPointer()
  let index = selections.indexOf(undefined)
  if (index <= 0) index = Math.max(1, selections.length) // index 0 would read as "no user data"
  selections[index] = sel
  const out = internals.xmlOutputBufferCreateIO({
    write: (buf: Uint8Array) => { sink.update(buf); return buf.byteLength },
    close: () => true
  })
  let prefixPtr = 0
  try {
    if (prefixes !== undefined && prefixes.length > 0) prefixPtr = prefixArray(prefixes)
    const rc = raw.xmlC14NExecute(documentPointer(doc), cb, index, method.mode, prefixPtr, method.withComments ? 1 : 0, out)
    if (rc < 0) throw new Error('libxml2 could not canonicalize the document')
  } finally {
    raw.xmlOutputBufferClose(out)
    selections[index] = undefined
    if (prefixPtr !== 0) raw.free(prefixPtr)
  }
}

function prefixArray (prefixes: readonly string[]): number {
  return internals.allocCStringArray([...prefixes])
}

/**
 * Canonicalizes the subtree at `include` (0: the whole document, with its prolog and epilog) without
 * the subtree at `exclude` (0: nothing left out).
 */
export function canonicalize (doc: XmlDocument, include: NodePtr, exclude: NodePtr, method: C14nMethod, sink: OctetSink, prefixes?: readonly string[]): void {
  run(doc, { include, exclude, marked: new Map() }, method, sink, prefixes)
}

/** Canonicalizes the document without the subtree at `excluded` (0: nothing excluded). */
export function canonicalizeDocumentExcept (doc: XmlDocument, excluded: NodePtr, method: C14nMethod, sink: OctetSink, prefixes?: readonly string[]): void {
  canonicalize(doc, 0, excluded, method, sink, prefixes)
}

/** Canonicalizes the subtree at `root` (with the namespace context its ancestors give it). */
export function canonicalizeSubtree (doc: XmlDocument, root: NodePtr, method: C14nMethod, sink: OctetSink, prefixes?: readonly string[]): void {
  canonicalize(doc, root, 0, method, sink, prefixes)
}

/** Collects canonical octets into one Buffer. */
export class OctetCollector implements OctetSink {
  private readonly chunks: Buffer[] = []
  update (chunk: Uint8Array): void { this.chunks.push(Buffer.from(chunk)) }
  bytes (): Buffer { return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks) }
}
