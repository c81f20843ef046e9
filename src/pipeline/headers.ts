import { HubError } from '../errors.js'
import type { IntakeRequest, Routing } from './context.js'

/** Message ids: what fits in a URL path segment and a file name without escaping. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/

function one (req: IntakeRequest, name: string): string | undefined {
  const v = req.headers[name]
  if (Array.isArray(v)) throw new HubError('EGIF_ERR_HEADER_INVALID', `${name} is sent more than once`)
  return v === undefined || v === '' ? undefined : v
}

function required (req: IntakeRequest, name: string): string {
  const v = one(req, name)
  if (v === undefined) throw new HubError('EGIF_ERR_HEADER_MISSING', `the ${headerCase(name)} header is required`)
  return v
}

function checkId (name: string, v: string | undefined): string | undefined {
  if (v !== undefined && !ID.test(v)) {
    throw new HubError('EGIF_ERR_HEADER_INVALID', `${headerCase(name)} must be 1–128 characters of letters, digits and . _ : @ + - (starting with a letter or digit)`)
  }
  return v
}

function headerCase (name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()).replace(/^Egif/, 'EGIF')
}

/** Stage: read and check the routing header (DESIGN §1). The caller must be the sender. */
export function readRouting (req: IntakeRequest): Routing {
  const messageId = checkId('egif-message-id', required(req, 'egif-message-id'))!
  const sender = required(req, 'egif-sender')
  const receiver = checkId('egif-receiver', required(req, 'egif-receiver'))!
  if (sender !== req.principal.id) {
    throw new HubError('EGIF_ERR_SENDER_MISMATCH', `EGIF-Sender is ${sender} but the caller authenticated as ${req.principal.id}`)
  }
  const routing: Routing = { messageId, sender, receiver }
  const type = one(req, 'egif-document-type')
  if (type !== undefined) routing.declaredType = type
  const version = one(req, 'egif-document-version')
  if (version !== undefined) routing.declaredVersion = version
  const conv = checkId('egif-conversation-id', one(req, 'egif-conversation-id'))
  if (conv !== undefined) routing.conversationId = conv
  const reply = checkId('egif-in-reply-to', one(req, 'egif-in-reply-to'))
  if (reply !== undefined) routing.inReplyTo = reply
  const sig = one(req, 'egif-signature')
  if (sig !== undefined) routing.detachedSignature = sig
  return routing
}

/** Stage: the media type decides the parser. Only UTF-8 XML and JSON are accepted. */
export function mediaFormat (contentType: string | undefined): 'xml' | 'json' {
  if (contentType === undefined) throw new HubError('EGIF_ERR_MEDIA_TYPE', 'Content-Type is missing')
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase())
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim().replace(/^"|"$/g, ''))
    if (k === 'charset' && v !== 'utf-8' && v !== 'utf8') throw new HubError('EGIF_ERR_MEDIA_TYPE', `charset ${v} is not accepted: documents are UTF-8`)
  }
  if (type === 'application/xml' || type === 'text/xml' || /^application\/[a-z0-9.+-]+\+xml$/.test(type)) return 'xml'
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return 'json'
  throw new HubError('EGIF_ERR_MEDIA_TYPE', `Content-Type ${type} is not accepted: send application/xml or application/json`)
}

/**
 * Stage: the body is the document's own bytes, which its digest, its signatures and the receipt
 * are over. A content coding (gzip, deflate, br) is refused, never decoded: a 415, as RFC 9110
 * §15.5.16 has it for a coding the server does not take.
 */
export function identityCoding (contentEncoding: string | undefined): void {
  if (contentEncoding === undefined || contentEncoding.trim().toLowerCase() === 'identity') return
  throw new HubError('EGIF_ERR_MEDIA_TYPE', `Content-Encoding ${contentEncoding} is not accepted: send the document's own bytes, which its digest, its signature and the receipt are over`)
}
