import type { StandardMessage } from '../../src/adapters-sdk/index.js'
import { HubError } from '../../src/errors.js'
import { readNotification, notificationXml, type NotificationKind } from './notification.js'
import { child, envelope, fields, text, WSA_NS, WSA_NS_MISSPELLED, ECMS_NS, type Node } from './soap.js'

export interface SoapEcmsConfig {
  /** The correspondence system's SOAP endpoint. */
  url: string
  /** WS-Addressing `To`; default `url`. */
  to?: string
  /** Which WS-Addressing namespace to send. Both are accepted in answers. Default `standard`. */
  addressing: 'standard' | 'misspelled'
  /** Extra HTTP headers (non-secret). Default none. */
  headers: Record<string, string>
  /** Inbound: how often the system's outbox is polled (GetDocumentList), ms. Default 5000. */
  pollMs: number
}

/** One SOAP call: the action (also the `SOAPAction` header) and the envelope. */
export interface SoapCall {
  action: string
  envelope: string
}

export const action = (op: string): string => `${ECMS_NS}/${op}`
const wsaNs = (c: SoapEcmsConfig): string => c.addressing === 'misspelled' ? WSA_NS_MISSPELLED : WSA_NS
/** Deterministic, so a retry carries the same WS-Addressing MessageID and the peer can drop it. */
export const wsaMessageId = (sender: string, id: string, op: string): string => `urn:egif:${op}:${encodeURIComponent(sender)}:${encodeURIComponent(id)}`

export function call (config: SoapEcmsConfig, op: string, wsaId: string, body: string): SoapCall {
  return { action: action(op), envelope: envelope({ messageId: wsaId, to: config.to ?? config.url, action: action(op) }, body, wsaNs(config)) }
}

const NOTIFIER: Record<NotificationKind, string> = { Receive: 'ReceiveNotification', Accept: 'AcceptNotification', Reject: 'RejectNotification', Invalid: 'InvalidNotification' }

/**
 * The SOAP call that hands a standard message to the correspondence system. Pure. An
 * `ecms-notification` becomes its notifier (Receive/Accept/Reject/InvalidNotification); anything
 * else — a `gov-letter` above all — is the outbound letter request (`SendDocumentRequest`), the
 * document carried in base64 so that its bytes and signature stay untouched.
 */
export function outboundCall (msg: StandardMessage, config: SoapEcmsConfig): SoapCall {
  const r = msg.routing
  if (r.documentType === 'ecms-notification') {
    const n = readNotification(msg.body)
    const op = NOTIFIER[n.kind]
    const body = `    <ecms:${op}>\n${fields([
      ['MessageID', r.messageId], ['Sender', r.sender], ['Receiver', r.receiver],
      ['LetterMessageID', n.letterMessageId], ['ReceiverLetterID', n.receiverLetterId], ['Reason', n.reason],
      ['NotifiedAt', n.notifiedAt], ['Digest', msg.digest], ['Seal', msg.seal]
    ])}\n    </ecms:${op}>`
    return call(config, op, wsaMessageId(r.sender, r.messageId, op), body)
  }
  const body = `    <ecms:SendDocumentRequest>\n${fields([
    ['MessageID', r.messageId], ['Sender', r.sender], ['Receiver', r.receiver],
    ['DocumentType', r.documentType], ['DocumentVersion', r.documentVersion],
    ['ConversationID', r.conversationId], ['InReplyTo', r.inReplyTo],
    ['AcceptedAt', msg.acceptedAt], ['Digest', msg.digest], ['Seal', msg.seal],
    ['ContentType', msg.contentType], ['Document', msg.body.toString('base64')]
  ])}\n    </ecms:SendDocumentRequest>`
  return call(config, 'SendDocument', wsaMessageId(r.sender, r.messageId, 'SendDocument'), body)
}

/** The acknowledgement every operation answers with. */
export interface Ack {
  processId: string
  processTime: string
}

export function readAck (body: Node): Ack {
  const processId = text(body, 'ProcessID')
  const processTime = text(body, 'ProcessTime')
  if (processId === undefined || processId === '' || processTime === undefined || Number.isNaN(Date.parse(processTime))) {
    throw new HubError('EGIF_ERR_ADAPTER_PROTOCOL', `${body.name} carries no ProcessID and ProcessTime`)
  }
  return { processId, processTime }
}

/** An item of the correspondence system's outbox, as `GetDocument` returns it. */
export interface EcmsItem {
  id: string
  kind: 'Letter' | NotificationKind
  messageId: string
  receiver: string
  documentType?: string
  documentVersion?: string
  conversationId?: string
  inReplyTo?: string
  contentType?: string
  /** base64 (Letter). */
  document?: string
  letterMessageId?: string
  receiverLetterId?: string
  reason?: string
  notifiedAt?: string
}

export function readItem (body: Node): EcmsItem {
  const t = (k: string): string | undefined => text(body, k)
  const kind = t('Kind') as EcmsItem['kind']
  if (!['Letter', 'Receive', 'Accept', 'Reject', 'Invalid'].includes(kind)) throw new HubError('EGIF_ERR_ADAPTER_PROTOCOL', `GetDocumentResponse: unknown Kind "${String(kind)}"`)
  const item: EcmsItem = { id: t('ID') ?? '', kind, messageId: t('MessageID') ?? '', receiver: t('Receiver') ?? '' }
  const optional: Array<[keyof EcmsItem, string]> = [['documentType', 'DocumentType'], ['documentVersion', 'DocumentVersion'], ['conversationId', 'ConversationID'], ['inReplyTo', 'InReplyTo'], ['contentType', 'ContentType'], ['document', 'Document'], ['letterMessageId', 'LetterMessageID'], ['receiverLetterId', 'ReceiverLetterID'], ['reason', 'Reason'], ['notifiedAt', 'NotifiedAt']]
  for (const [k, el] of optional) { const v = t(el); if (v !== undefined) (item as any)[k] = v }
  return item
}

export function readList (body: Node): Array<{ id: string, kind: string }> {
  return body.children.filter((c) => c.name === 'Item').map((i) => ({ id: text(i, 'ID') ?? '', kind: text(i, 'Kind') ?? '' }))
}

/** An outbox item as a standard document: a letter's own bytes, or an `ecms-notification`. Pure. */
export function itemToStandard (item: EcmsItem): { routing: { messageId: string, receiver: string, documentType?: string, documentVersion?: string, conversationId?: string, inReplyTo?: string }, contentType: string, body: Buffer } {
  if (item.messageId === '' || item.receiver === '') throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `item ${item.id}: MessageID and Receiver are required`)
  if (item.kind === 'Letter') {
    if (item.document === undefined) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `item ${item.id}: a letter without a Document`)
    return {
      routing: { messageId: item.messageId, receiver: item.receiver, documentType: item.documentType, documentVersion: item.documentVersion, conversationId: item.conversationId, inReplyTo: item.inReplyTo },
      contentType: item.contentType ?? 'application/xml',
      body: Buffer.from(item.document, 'base64')
    }
  }
  if (item.letterMessageId === undefined || item.notifiedAt === undefined) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `item ${item.id}: a notification needs LetterMessageID and NotifiedAt`)
  const xml = notificationXml({ kind: item.kind, letterMessageId: item.letterMessageId, letterSender: item.receiver, receiverLetterId: item.receiverLetterId, reason: item.reason, notifiedAt: item.notifiedAt })
  return { routing: { messageId: item.messageId, receiver: item.receiver, documentType: 'ecms-notification', documentVersion: '1.0', inReplyTo: item.letterMessageId }, contentType: 'application/xml', body: Buffer.from(xml) }
}

export { child }
