import { HubError } from '../errors.js'

/**
 * Bounds the scanner enforces before libxml2 sees a document. Each is far above what a real
 * business document needs (an ETDA e-Tax invoice nests 8 deep, has at most 6 attributes on an
 * element and a few hundred elements) and far below what would hurt the process.
 */
export interface XmlLimits {
  /** Largest document in bytes. Default 10 MiB. */
  maxBytes: number
  /** Deepest element nesting (the root is depth 1). Default 64. */
  maxDepth: number
  /** Most attributes (incl. xmlns declarations) on one element. Default 64. */
  maxAttributes: number
  /** Most elements in one document. Default 200_000. */
  maxElements: number
}

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({
  maxBytes: 10 * 1024 * 1024,
  maxDepth: 64,
  maxAttributes: 64,
  maxElements: 200_000
})

/**
 * The defaults overridden by the given values. `undefined` members keep the default, so a caller
 * may spread a partially filled configuration object. A limit that is not a positive integer is a
 * programming or configuration error, not a property of the document.
 */
export function resolveXmlLimits (given: Partial<XmlLimits> = {}): XmlLimits {
  const out: XmlLimits = { ...DEFAULT_XML_LIMITS }
  for (const key of ['maxBytes', 'maxDepth', 'maxAttributes', 'maxElements'] as const) {
    const v = given[key]
    if (v === undefined) continue
    if (!Number.isSafeInteger(v) || v < 1) throw new HubError('EGIF_ERR_INTERNAL', `XML limit ${key} must be a positive integer, got ${String(v)}`)
    out[key] = v
  }
  return out
}
