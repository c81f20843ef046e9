import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

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
  close: () => Promise<void>
}

/**
 * A stand-in for an agency's back-office system that takes documents by HTTP POST (the http-push
 * adapter's peer). It keeps what it receives in memory, drops duplicates by message id as a real
 * receiving system should, and lists what it has at GET /.
 */
export async function startLegacySystem (port: number, host = '127.0.0.1'): Promise<LegacySystem> {
  const received: Received[] = []
  const seen = new Set<string>()
  const sys: LegacySystem = { server: createServer(), url: '', received, duplicates: 0, close: async () => {} }
  sys.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
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
