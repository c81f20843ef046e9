import type { StandardMessage } from './types.js'

/** The HTTP headers that carry a message's routing and seal to a recipient (DESIGN §1). */
export function routingHeaders (msg: StandardMessage): Record<string, string> {
  const r = msg.routing
  const h: Record<string, string> = {
    'content-type': msg.contentType,
    'egif-message-id': r.messageId,
    'egif-sender': r.sender,
    'egif-receiver': r.receiver,
    'egif-document-type': r.documentType,
    'egif-document-version': r.documentVersion,
    'egif-digest': msg.digest,
    'egif-seal': msg.seal,
    'egif-attempt': String(msg.attempt)
  }
  if (r.conversationId !== undefined) h['egif-conversation-id'] = r.conversationId
  if (r.inReplyTo !== undefined) h['egif-in-reply-to'] = r.inReplyTo
  return h
}

/**
 * Header sets merged by lower-case name, later sets winning: a header an adapter sets itself
 * (routing, content type, credentials) replaces a configured one of the same name in any case,
 * instead of being sent beside it.
 */
export function mergeHeaders (...sets: Array<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const set of sets) for (const name in set) headers[name.toLowerCase()] = set[name]
  return headers
}
