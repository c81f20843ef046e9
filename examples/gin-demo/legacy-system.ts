import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { EcmsStandIn } from '../../conformance/adapters/stand-ins/ecms.js'

/** One document as the simulated legacy system received it. */
export interface Received {
  path: string
  messageId: string
  sender: string
  documentType: string
  digest: string
  seal: string
  bytes: number
  receivedAt: string
}

export interface LegacySystem {
  server: Server
  url: string
  /** Documents taken, one per message (duplicates are dropped by sender + message id). */
  received: Received[]
  /** Deliveries of a message it already had (a retry after a lost answer): counted, not stored. */
  duplicates: number
  /** Serves MFA's correspondence system's state at GET /mfa/ecms and takes letters for its outbox at POST /mfa/ecms/outbox. */
  showEcms: (ecms: EcmsStandIn) => void
  close: () => Promise<void>
}

/**
 * A stand-in for agencies' back-office systems that take documents by HTTP (the http-push and
 * rest-json adapters' peer; under /bb/ it is the Budget Bureau's API and wants its bearer token).
 * It keeps what it receives in memory, drops duplicates by message id as a real receiving system
 * should, and lists what it has at GET /.
 */
export async function startLegacySystem (port: number, opts: { host?: string, bbToken?: string } = {}): Promise<LegacySystem> {
  const host = opts.host ?? '127.0.0.1'
  const received: Received[] = []
  const seen = new Set<string>()
  let ecms: EcmsStandIn | undefined
  const sys: LegacySystem = { server: createServer(), url: '', received, duplicates: 0, showEcms: (e) => { ecms = e }, close: async () => {} }
  sys.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const json = (status: number, v: unknown): void => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v, null, 2)) }
      if (req.url?.startsWith('/mfa/ecms') === true && ecms !== undefined) {
        if (req.method === 'POST' && req.url === '/mfa/ecms/outbox') {
          // A clerk files a letter in MFA's correspondence system; the hub's adapter picks it up.
          const id = String(req.headers['egif-message-id'] ?? `MFA-${Date.now()}`)
          ecms.outbox.push({ id: `OUT-${id}`, kind: 'Letter', messageId: id, receiver: String(req.headers['egif-receiver'] ?? 'TH-OCSC'), contentType: 'application/xml', document: Buffer.concat(chunks).toString('base64') })
          json(202, { queued: id })
          return
        }
        json(200, { received: [...ecms.held.values()].map((c) => ({ op: c.op, ...c.fields, Document: c.fields.Document !== undefined ? `(${Buffer.from(c.fields.Document, 'base64').length} bytes)` : undefined })), outbox: ecms.outbox.map((i) => ({ id: i.id, kind: i.kind, messageId: i.messageId })) })
        return
      }
      if (req.url?.startsWith('/bb/') === true && opts.bbToken !== undefined && req.headers.authorization !== `Bearer ${opts.bbToken}`) {
        json(401, { error: 'a bearer token is required' })
        return
      }
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received, duplicates: sys.duplicates }, null, 2))
        return
      }
      const h = (n: string): string => String(req.headers[n] ?? '')
      const key = `${h('egif-sender')}/${h('egif-message-id')}`
      if (seen.has(key)) {
        sys.duplicates++
      } else {
        seen.add(key)
        received.push({
          path: req.url ?? '/',
          messageId: h('egif-message-id'),
          sender: h('egif-sender'),
          documentType: h('egif-document-type'),
          digest: h('egif-digest'),
          seal: h('egif-seal'),
          bytes: Buffer.concat(chunks).length,
          receivedAt: new Date().toISOString()
        })
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"stored"}')
    })
  })
  await new Promise<void>((resolve, reject) => {
    sys.server.once('error', reject)
    sys.server.listen(port, host, () => { resolve() })
  })
  const addr = sys.server.address()
  sys.url = `http://${host}:${typeof addr === 'object' && addr !== null ? addr.port : port}`
  sys.close = async () => { await new Promise<void>((resolve) => sys.server.close(() => { resolve() })) }
  return sys
}
