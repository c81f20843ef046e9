import { HubError } from '../errors.js'
import { scanXml } from '../xml/scan.js'
import { parseXml } from '../xml/document.js'
import type { XmlLimits } from '../xml/limits.js'
import { parseJson } from '../json/parse.js'
import type { CheckState } from './context.js'
import type { HubConfig } from '../config/types.js'

export interface ParseLimits {
  xml: Partial<XmlLimits>
  jsonMaxDepth: number
  maxBodyBytes: number
}

/** The parse limits of a configuration (`limits`). */
export function parseLimits (config: HubConfig): ParseLimits {
  const l = config.limits
  return {
    maxBodyBytes: l.maxBodyBytes,
    jsonMaxDepth: l.jsonMaxDepth,
    xml: { maxDepth: l.xmlMaxDepth, maxAttributes: l.xmlMaxAttributes, maxElements: l.xmlMaxElements }
  }
}

/**
 * Stage: parse strictly and within bounds. XML must pass the bounded scanner (DOCTYPE, depth,
 * attributes, roots, control characters) and then libxml2: a document both parsers agree on.
 */
export function parseBody (s: CheckState, limits: ParseLimits): void {
  const body = s.input.body
  if (body.length === 0) throw new HubError('EGIF_ERR_BODY_EMPTY')
  if (body.length > limits.maxBodyBytes) throw new HubError('EGIF_ERR_BODY_TOO_LARGE', `the document has ${body.length} bytes; the limit is ${limits.maxBodyBytes}`)
  if (s.input.format === 'xml') {
    const scan = scanXml(body, { ...limits.xml, maxBytes: limits.maxBodyBytes })
    const doc = parseXml(body)
    s.xml = { doc, scan }
  } else {
    s.json = parseJson(body, { maxBytes: limits.maxBodyBytes, maxDepth: limits.jsonMaxDepth })
  }
}
