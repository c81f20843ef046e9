import { XmlElement } from 'libxml2-wasm'
import { parseXml } from '../../src/xml/document.js'
import { scanXml } from '../../src/xml/scan.js'
import { HubError } from '../../src/errors.js'

export const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/'
export const WSA_NS = 'http://www.w3.org/2005/08/addressing'
/** Sent by some agencies' systems; accepted as if it were the standard namespace. */
export const WSA_NS_MISSPELLED = 'http://w3.org/2005/08/addressing'
export const ECMS_NS = 'urn:th:go:egif:ecms:1'

/** An element as plain data: namespace, local name, text and child elements. */
export interface Node {
  ns: string
  name: string
  text: string
  children: Node[]
}

export function child (n: Node | undefined, name: string): Node | undefined {
  return n?.children.find((c) => c.name === name)
}

export function text (n: Node | undefined, name: string): string | undefined {
  const c = child(n, name)
  return c === undefined ? undefined : c.text.trim()
}

export function escapeXml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** `<ecms:Name>value</ecms:Name>` for each defined value, in order. */
export function fields (values: Array<[string, string | undefined]>, indent = '      '): string {
  return values.filter(([, v]) => v !== undefined).map(([k, v]) => `${indent}<ecms:${k}>${escapeXml(v!)}</ecms:${k}>`).join('\n')
}

export interface Addressing {
  messageId: string
  to: string
  action: string
  relatesTo?: string
}

/** A SOAP 1.1 envelope with WS-Addressing headers around one body element. */
export function envelope (a: Addressing, body: string, wsaNs = WSA_NS): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<soap:Envelope xmlns:soap="${SOAP_NS}" xmlns:wsa="${wsaNs}" xmlns:ecms="${ECMS_NS}">`,
    '  <soap:Header>',
    `    <wsa:MessageID>${escapeXml(a.messageId)}</wsa:MessageID>`,
    `    <wsa:To>${escapeXml(a.to)}</wsa:To>`,
    `    <wsa:Action>${escapeXml(a.action)}</wsa:Action>`,
    ...(a.relatesTo !== undefined ? [`    <wsa:RelatesTo>${escapeXml(a.relatesTo)}</wsa:RelatesTo>`] : []),
    '  </soap:Header>',
    '  <soap:Body>',
    body,
    '  </soap:Body>',
    '</soap:Envelope>',
    ''
  ].join('\n')
}

/** A SOAP 1.1 fault envelope. `code` is `soap:Client` or `soap:Server`; `detailCode` goes in `detail`. */
export function faultEnvelope (code: 'soap:Client' | 'soap:Server', message: string, detailCode: string, a?: Addressing): string {
  const body = [
    '    <soap:Fault>',
    `      <faultcode>${code}</faultcode>`,
    `      <faultstring>${escapeXml(message)}</faultstring>`,
    `      <detail><ecms:Error><ecms:Code>${escapeXml(detailCode)}</ecms:Code></ecms:Error></detail>`,
    '    </soap:Fault>'
  ].join('\n')
  return a === undefined
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<soap:Envelope xmlns:soap="${SOAP_NS}" xmlns:ecms="${ECMS_NS}">\n  <soap:Body>\n${body}\n  </soap:Body>\n</soap:Envelope>\n`
    : envelope(a, body)
}

function toNode (el: XmlElement): Node {
  const children: Node[] = []
  let t = ''
  for (let c = el.firstChild; c !== null; c = c.next) {
    if (c instanceof XmlElement) children.push(toNode(c))
    else t += (c as unknown as { content: string }).content ?? ''
  }
  return { ns: el.namespaceUri, name: el.name, text: t, children }
}

/** Parses XML with the hub's strict parsers (scanner, then libxml2) into plain data. */
export function parseTree (bytes: Uint8Array): Node {
  scanXml(bytes)
  const doc = parseXml(bytes, { url: 'soap-ecms.xml' })
  try {
    return toNode(doc.root)
  } finally {
    doc.dispose()
  }
}

export interface ParsedEnvelope {
  addressing: { messageId?: string, to?: string, action?: string, relatesTo?: string, namespace?: string }
  /** The first element of the body (a request, a response or a Fault). */
  body: Node
  fault?: { code: string, message: string, detailCode?: string }
}

/**
 * Parses a SOAP 1.1 envelope with the hub's strict parsers (the scanner first: no DOCTYPE, no
 * entities, bounded; then libxml2). WS-Addressing headers are read in the standard namespace and
 * in the misspelled one some agencies send.
 * @throws HubError EGIF_ERR_ADAPTER_PROTOCOL when it is not a SOAP 1.1 envelope; the XML codes when it is not safe XML
 */
export function parseEnvelope (bytes: Uint8Array): ParsedEnvelope {
  const root = parseTree(bytes)
  if (root.ns !== SOAP_NS || root.name !== 'Envelope') throw new HubError('EGIF_ERR_ADAPTER_PROTOCOL', `not a SOAP 1.1 envelope: the root is {${root.ns}}${root.name}`)
  const header = root.children.find((c) => c.ns === SOAP_NS && c.name === 'Header')
  const bodyEl = root.children.find((c) => c.ns === SOAP_NS && c.name === 'Body')
  const body = bodyEl?.children[0]
  if (body === undefined) throw new HubError('EGIF_ERR_ADAPTER_PROTOCOL', 'the SOAP envelope has an empty or missing Body')
  const wsa = (header?.children ?? []).filter((c) => c.ns === WSA_NS || c.ns === WSA_NS_MISSPELLED)
  const get = (n: string): string | undefined => wsa.find((c) => c.name === n)?.text.trim()
  const out: ParsedEnvelope = {
    addressing: { messageId: get('MessageID'), to: get('To'), action: get('Action'), relatesTo: get('RelatesTo'), namespace: wsa[0]?.ns },
    body
  }
  if (body.ns === SOAP_NS && body.name === 'Fault') {
    const detail = child(body, 'detail')
    const detailCode = detail?.children[0] !== undefined ? text(detail.children[0], 'Code') : undefined
    out.fault = { code: text(body, 'faultcode') ?? '', message: text(body, 'faultstring') ?? '', detailCode }
  }
  return out
}
