import { HubError } from '../errors.js'
import { scanXml } from '../xml/scan.js'
import { parseXml } from '../xml/document.js'
import type { XmlLimits } from '../xml/limits.js'
import { parseJson } from '../json/parse.js'
import type { IntakeState } from './context.js'

export interface ParseLimits {
  xml: Partial<XmlLimits>
  jsonMaxDepth: number
  maxBodyBytes: number
}

/**
 * Stage: parse strictly and within bounds. XML must pass the bounded scanner (DOCTYPE, depth,
 * attributes, roots, control characters) and then libxml2: a document both parsers agree on.
 */
export function parseBody (s: IntakeState, limits: ParseLimits): void {
  const body = s.req.body
  if (body.length === 0) throw new HubError('EGIF_ERR_BODY_EMPTY')
  if (body.length > limits.maxBodyBytes) throw new HubError('EGIF_ERR_BODY_TOO_LARGE', `the document has ${body.length} bytes; the limit is ${limits.maxBodyBytes}`)
  if (s.format === 'xml') {
    const scan = scanXml(body, { ...limits.xml, maxBytes: limits.maxBodyBytes })
    const doc = parseXml(body)
    s.xml = { doc, scan }
  } else {
    s.json = parseJson(body, { maxBytes: limits.maxBodyBytes, maxDepth: limits.jsonMaxDepth })
  }
}
