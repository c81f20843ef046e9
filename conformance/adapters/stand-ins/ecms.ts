import { createServer, type Server } from 'node:http'
import { parseEnvelope, envelope, faultEnvelope, fields, text, WSA_NS, WSA_NS_MISSPELLED, ECMS_NS, type Node } from '../../../adapters/soap-ecms/soap.js'
import type { EcmsItem } from '../../../adapters/soap-ecms/operations.js'
import type { PeerBehaviour } from '../types.js'

/** One operation the stand-in received: its name, WS-Addressing and fields. */
export interface EcmsCall {
  op: string
  wsaMessageId?: string
  wsaNamespace?: string
  fields: Record<string, string>
}

export interface EcmsStandIn {
  url: string
  server: Server
  behaviour: PeerBehaviour
  /** Every call, duplicates included. */
  calls: EcmsCall[]
  /** Letters and notifications taken, one per sender + message id. */
  held: Map<string, EcmsCall>
  /** The system's outbox, polled by the adapter's inbound side. */
  outbox: EcmsItem[]
  /** Answer in the misspelled WS-Addressing namespace, as some agencies' systems do. */
  misspelled: boolean
  close: () => Promise<void>
}

const asFields = (n: Node): Record<string, string> => Object.fromEntries(n.children.map((c) => [c.name, c.text.trim()]))

/**
 * A government correspondence (ECMS) system's SOAP endpoint on 127.0.0.1, for tests, the
 * conformance suite and the demo. It parses requests with the hub's strict parsers, answers each
 * operation with an acknowledgement (ProcessID, ProcessTime) and `RelatesTo`, refuses a repeated
 * message id with a `DuplicateMessage` fault, and plays the failures of the conformance suite.
 */
export async function ecmsStandIn (port = 0): Promise<EcmsStandIn> {
  let seq = 0
  const s: EcmsStandIn = { url: '', server: createServer(), behaviour: 'accept', calls: [], held: new Map(), outbox: [], misspelled: false, close: async () => {} }
  s.server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (s.behaviour === 'hang') return
      const send = (status: number, xml: string): void => { res.writeHead(status, { 'content-type': 'text/xml; charset=utf-8' }).end(xml) }
      let env
      try {
        env = parseEnvelope(Buffer.concat(chunks))
      } catch (err) {
        send(500, faultEnvelope('soap:Client', `not a SOAP envelope: ${(err as Error).message}`, 'InvalidRequest'))
        return
      }
      const op = env.body.name
      const call: EcmsCall = { op, wsaMessageId: env.addressing.messageId, wsaNamespace: env.addressing.namespace, fields: asFields(env.body) }
      s.calls.push(call)
      const a = { messageId: `urn:uuid:ecms-${++seq}`, to: env.addressing.to ?? '', action: `${ECMS_NS}/${op}Response`, relatesTo: env.addressing.messageId }
      const reply = (name: string, body: string): void => {
        send(200, envelope(a, `    <ecms:${name}>\n${body}\n    </ecms:${name}>`, s.misspelled ? WSA_NS_MISSPELLED : WSA_NS))
      }
      const ack = (): string => fields([['ProcessID', `ECMS-${String(seq).padStart(6, '0')}`], ['ProcessTime', new Date().toISOString()]])
      if (s.behaviour === 'transient') { send(500, faultEnvelope('soap:Server', 'the correspondence database is being backed up', 'ServiceUnavailable', a)); return }
      if (s.behaviour === 'permanent') { send(500, faultEnvelope('soap:Client', 'the receiver is not an agency of this system', 'UnknownReceiver', a)); return }
      if (env.addressing.messageId === undefined) { send(500, faultEnvelope('soap:Client', 'WS-Addressing MessageID is required', 'InvalidRequest')); return }
      switch (op) {
        case 'SendDocumentRequest':
        case 'ReceiveNotification':
        case 'AcceptNotification':
        case 'RejectNotification':
        case 'InvalidNotification': {
          const key = `${op}/${call.fields.Sender ?? ''}/${call.fields.MessageID ?? call.fields.ID ?? ''}`
          if (s.held.has(key)) { send(500, faultEnvelope('soap:Client', 'this message id was received before', 'DuplicateMessage', a)); return }
          s.held.set(key, call)
          reply(op === 'SendDocumentRequest' ? 'SendDocumentResponse' : 'NotificationResponse', ack())
          return
        }
        case 'GetDocumentListRequest':
          reply('GetDocumentListResponse', s.outbox.map((i) => `      <ecms:Item><ecms:ID>${i.id}</ecms:ID><ecms:Kind>${i.kind}</ecms:Kind></ecms:Item>`).join('\n'))
          return
        case 'GetDocumentRequest': {
          const item = s.outbox.find((i) => i.id === text(env.body, 'ID'))
          if (item === undefined) { send(500, faultEnvelope('soap:Client', 'no such item', 'NotFound', a)); return }
          reply('GetDocumentResponse', fields([
            ['ID', item.id], ['Kind', item.kind], ['MessageID', item.messageId], ['Receiver', item.receiver],
            ['DocumentType', item.documentType], ['DocumentVersion', item.documentVersion], ['ConversationID', item.conversationId], ['InReplyTo', item.inReplyTo],
            ['ContentType', item.contentType], ['Document', item.document], ['LetterMessageID', item.letterMessageId], ['ReceiverLetterID', item.receiverLetterId],
            ['Reason', item.reason], ['NotifiedAt', item.notifiedAt]
          ]))
          return
        }
        case 'DeleteDocumentRequest':
          s.outbox = s.outbox.filter((i) => i.id !== text(env.body, 'ID'))
          reply('DeleteDocumentResponse', ack())
          return
        default:
          send(500, faultEnvelope('soap:Client', `unknown operation ${op}`, 'UnknownOperation', a))
      }
    })
  })
  await new Promise<void>((resolve, reject) => { s.server.once('error', reject); s.server.listen(port, '127.0.0.1', resolve) })
  const addr = s.server.address()
  s.url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : port}/ecms`
  s.close = async () => {
    s.server.closeAllConnections()
    await new Promise<void>((resolve) => s.server.close(() => { resolve() }))
  }
  return s
}
