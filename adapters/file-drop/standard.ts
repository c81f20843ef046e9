import { createHash } from 'node:crypto'
import { applyMapping, type StandardMessage } from '../../src/adapters-sdk/index.js'
import { HubError } from '../../src/errors.js'
import type { FileDropConfig } from './config.js'
import type { FileRecord } from './records.js'

/** Keeps names portable (Windows shares included); a changed id gets a hash so two never meet. */
function safeName (s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')
  return clean === s ? s : `${clean}-${createHash('sha256').update(s).digest('hex').slice(0, 8)}`
}

/** The file name a message is written under: deterministic, so a retry finds it. */
export function fileNameFor (msg: StandardMessage): string {
  const ext = /json/i.test(msg.contentType) ? 'json' : 'xml'
  return `${safeName(msg.routing.sender)}_${safeName(msg.routing.messageId)}.${ext}`
}

/**
 * What the legacy system finds for one message besides the document's exact bytes: the file name
 * and the envelope written beside it as `<name>.egif.json`. Pure.
 */
export function toFiles (msg: StandardMessage, config: FileDropConfig): { name: string, envelope?: Record<string, unknown> } {
  const name = fileNameFor(msg)
  if (!config.envelope) return { name }
  return { name, envelope: { ...msg.routing, contentType: msg.contentType, digest: msg.digest, seal: msg.seal, acceptedAt: msg.acceptedAt, file: name } }
}

/** A record (or a whole file) as a standard document. Pure. */
export function recordToStandard (rec: FileRecord, config: FileDropConfig): { routing: { messageId: string, receiver: string, documentType?: string, documentVersion?: string, conversationId?: string }, contentType: string, body: Buffer } {
  const r = config.routing
  const routingMap = {
    receiver: r.receiver,
    messageId: r.messageId ?? { template: rec.text !== undefined ? '{file}' : '{file}-{record}' },
    ...(r.conversationId !== undefined ? { conversationId: r.conversationId } : {})
  }
  const routing = applyMapping(rec, routingMap) as { receiver: string, messageId: string, conversationId?: string }
  const base = { ...routing, documentType: r.documentType, documentVersion: r.documentVersion }
  if (rec.text !== undefined) return { routing: base, contentType: 'application/xml', body: Buffer.from(rec.text, 'utf8') }
  if (config.mapping === undefined) throw new HubError('EGIF_ERR_ADAPTER_CONFIG', `format ${config.format} needs a "mapping" from record fields to the document`)
  return { routing: base, contentType: 'application/json', body: Buffer.from(JSON.stringify(applyMapping(rec, config.mapping))) }
}
