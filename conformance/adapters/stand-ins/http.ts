import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { PeerBehaviour } from '../types.js'

export interface HttpRequestSeen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface HttpAnswer {
  status: number
  headers?: Record<string, string>
  body?: string
}

export interface HttpStandIn {
  url: string
  behaviour: PeerBehaviour
  requests: HttpRequestSeen[]
  server: Server
  close: () => Promise<void>
}

/**
 * A legacy system's HTTP endpoint on 127.0.0.1 for conformance checks and tests. `answer` decides
 * each response; in the `hang` behaviour the request is never answered (the socket is destroyed at
 * close).
 */
export async function httpStandIn (answer: (req: HttpRequestSeen, behaviour: PeerBehaviour) => HttpAnswer): Promise<HttpStandIn> {
  const s: HttpStandIn = { url: '', behaviour: 'accept', requests: [], server: createServer(), close: async () => {} }
  s.server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) }
      s.requests.push(seen)
      if (s.behaviour === 'hang') return
      const a = answer(seen, s.behaviour)
      res.writeHead(a.status, a.headers).end(a.body ?? '')
    })
  })
  await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve))
  const addr = s.server.address()
  s.url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  s.close = async () => {
    s.server.closeAllConnections()
    await new Promise<void>((resolve) => s.server.close(() => { resolve() }))
  }
  return s
}
