import t from 'tap'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { KEYS, startHub, until } from '../helpers/hub.js'

/** Sends raw bytes on a new connection and reads until the hub closes it: the status line and the parsed problem. */
async function raw (port: number, request: string, hold?: (socket: Socket) => void): Promise<{ status: number, type: string, problem: Record<string, unknown> }> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let text = ''
  socket.setEncoding('latin1').on('data', (s: string) => { text += s })
  const closed = once(socket, 'close')
  socket.write(request)
  hold?.(socket)
  await closed
  const [head, body] = text.split('\r\n\r\n')
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    type: /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? '',
    problem: JSON.parse(body) as Record<string, unknown>
  }
}

t.test('what Node\'s parser and fastify refuse before a route runs is a problem document with a stable code', async (t) => {
  const { app, cfg } = await startHub(t, { patch: (r) => { r.limits = { requestTimeoutMs: 5000 } } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port

  const big = await raw(port, `GET /v1/inbox HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${KEYS.A}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)
  t.equal(big.status, 431)
  t.equal(big.type, 'application/problem+json')
  t.match(big.problem, { code: 'EGIF_ERR_HEADERS_TOO_LARGE', status: 431, type: 'urn:egif:error:EGIF_ERR_HEADERS_TOO_LARGE', retryable: false })

  const broken = await raw(port, 'GET /health HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n')
  t.equal(broken.status, 400)
  t.match(broken.problem, { code: 'EGIF_ERR_BAD_REQUEST', detail: /not valid HTTP\/1\.1 \(HPE_/ })

  const both = await raw(port, 'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n')
  t.equal(both.status, 400, 'content-length and chunked at once (request smuggling) is refused')
  t.equal(both.problem.code, 'EGIF_ERR_BAD_REQUEST')

  const badUrl = await app.inject({ method: 'GET', url: '/v1/messages/%E0%A4%A', headers: { authorization: `Bearer ${KEYS.A}` } })
  t.equal(badUrl.statusCode, 400)
  t.equal(badUrl.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(badUrl.json(), { code: 'EGIF_ERR_BAD_REQUEST', detail: /not a valid url component/ })

  t.equal(app.server.requestTimeout, cfg.limits.requestTimeoutMs, 'limits.requestTimeoutMs bounds how long a request may take to arrive')
  // Node checks its request timeout every 30 s, then raises the refusal on the server's side of
  // the connection as a 'clientError' (its socketOnError): raised here the same way, at once.
  let serverSide: Socket | undefined
  app.server.on('connection', (s: Socket) => { serverSide = s })
  const late = await raw(port, 'POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc', () => {
    void until(() => serverSide !== undefined, 'the hub to take the connection').then(() => {
      app.server.emit('clientError', Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), serverSide)
    })
  })
  t.equal(late.status, 408)
  t.match(late.problem, { code: 'EGIF_ERR_REQUEST_TIMEOUT', retryable: true })

  const health = await app.inject({ method: 'GET', url: '/health' })
  t.equal(health.statusCode, 200, 'and the hub goes on')
})
