import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { promisify } from 'node:util'
import pino from 'pino'
import { createHttpPushAdapter, type HttpPushConfig } from '../../adapters/http-push/index.js'
import { standardMessage } from '../../conformance/adapters/message.js'
import { DeliveryHttpClient, PermanentDeliveryError, TransientDeliveryError, type Adapter, type StandardMessage } from '../../src/adapters-sdk/index.js'
import { issue, makeCa } from '../helpers/openssl.js'
import { tmpDir } from '../helpers/tmp.js'

interface Seen { method: string, url: string, headers: IncomingHttpHeaders, body: Buffer, socket: Socket }
interface Peer { url: string, seen: Seen[], connections: number, open: Set<Socket>, server: Server | HttpsServer }

/** A recipient on 127.0.0.1 that records every request and answers with `answer`. */
async function peer (t: Test, answer: (req: Seen, res: ServerResponse) => void = (_, res) => { res.writeHead(200).end() }, server: Server | HttpsServer = createServer()): Promise<Peer> {
  const p: Peer = { url: '', seen: [], connections: 0, open: new Set(), server }
  server.on('connection', (s: Socket) => { p.connections++; p.open.add(s); s.on('close', () => p.open.delete(s)) })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), socket: req.socket }
      p.seen.push(seen)
      answer(seen, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const scheme = server instanceof HttpsServer ? 'https' : 'http'
  p.url = `${scheme}://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/inbound?box=7`
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })
  return p
}

function adapter (t: Test): Adapter<HttpPushConfig> {
  const a = createHttpPushAdapter()
  t.teardown(async () => { await a.close?.() })
  return a
}

async function deliver (a: Adapter<HttpPushConfig>, config: Partial<HttpPushConfig> & { url: string }, msg: StandardMessage = standardMessage({ body: '{"a":1}' }), signal: AbortSignal = AbortSignal.timeout(5000)): Promise<void> {
  await a.deliver(msg, { config: { headers: {}, ...config }, routing: msg.routing, log: pino({ level: 'silent' }), signal, services: { putInMailbox: async () => {} } })
}

async function failure (p: Promise<void>): Promise<Error & { code?: string, retryAfterMs?: number }> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('deliver resolved')
}

t.test('the exact bytes, the routing header and the configured headers are POSTed to the URL', async (t) => {
  const p = await peer(t)
  const a = adapter(t)
  // A BOM, Thai text and bytes that are not UTF-8 at all: nothing may be re-encoded.
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<note>ส่งถึง</note>'), Buffer.from([0xff, 0x00, 0xfe])])
  const msg = standardMessage({ body, contentType: 'application/xml', routing: { conversationId: 'conv-1' }, attempt: 3 })
  await deliver(a, { url: p.url, headers: { Authorization: 'Bearer recipient-secret', 'X-Box': 'inbox-7', 'EGIF-Sender': 'forged' } }, msg)
  t.equal(p.seen.length, 1)
  const got = p.seen[0]
  t.equal(got.method, 'POST')
  t.equal(got.url, '/inbound?box=7', 'path and query as configured')
  t.ok(got.body.equals(body), 'byte for byte')
  t.equal(got.headers['content-length'], String(body.length))
  t.match(got.headers, {
    authorization: 'Bearer recipient-secret',
    'x-box': 'inbox-7',
    'content-type': 'application/xml',
    'egif-message-id': 'conformance-0001',
    'egif-sender': 'TH-SENDER',
    'egif-conversation-id': 'conv-1',
    'egif-attempt': '3',
    'egif-digest': msg.digest,
    'egif-seal': msg.seal
  })
  t.notOk(got.headers['transfer-encoding'], 'a length, not chunks')
})

t.test('statuses: 2xx delivered; 408/425/429/5xx transient with Retry-After; other 4xx and 3xx permanent', async (t) => {
  const date = new Date(Date.now() + 30_000).toUTCString()
  const answers: Record<string, [number, Record<string, string>, string]> = {
    '/ok': [204, {}, ''],
    '/created': [201, {}, '{"id":1}'],
    '/busy': [503, { 'retry-after': '7' }, 'down for maintenance'],
    '/dated': [429, { 'retry-after': date }, ''],
    '/timeout': [408, {}, ''],
    '/early': [425, {}, ''],
    '/broken': [500, {}, 'x'.repeat(5000)],
    '/refused': [400, {}, 'ไม่รับเอกสารนี้ '.repeat(40)],
    '/gone': [410, {}, ''],
    '/moved': [301, { location: 'http://127.0.0.1:9/elsewhere' }, '']
  }
  const p = await peer(t, (req, res) => {
    const [status, headers, text] = answers[req.url]
    res.writeHead(status, headers).end(text)
  })
  const base = p.url.replace(/\/inbound.*$/, '')
  const a = adapter(t)
  await deliver(a, { url: `${base}/ok` })
  await deliver(a, { url: `${base}/created` })

  const busy = await failure(deliver(a, { url: `${base}/busy` }))
  t.ok(busy instanceof TransientDeliveryError)
  t.equal(busy.code, 'EGIF_ERR_DELIVERY_TRANSIENT')
  t.equal(busy.retryAfterMs, 7000, 'Retry-After in seconds')
  t.equal(busy.message, `${base}/busy answered 503: down for maintenance`)
  const dated = await failure(deliver(a, { url: `${base}/dated` }))
  t.ok(dated instanceof TransientDeliveryError)
  t.ok(dated.retryAfterMs! > 25_000 && dated.retryAfterMs! <= 30_000, `Retry-After as an HTTP date (${String(dated.retryAfterMs)} ms)`)
  for (const path of ['/timeout', '/early']) {
    const e = await failure(deliver(a, { url: `${base}${path}` }))
    t.ok(e instanceof TransientDeliveryError, `${path} is transient`)
    t.equal(e.retryAfterMs, undefined)
  }
  const broken = await failure(deliver(a, { url: `${base}/broken` }))
  t.ok(broken instanceof TransientDeliveryError)
  t.equal(broken.message, `${base}/broken answered 500: ${'x'.repeat(200)}`, 'the first 200 characters of the answer')

  const refused = await failure(deliver(a, { url: `${base}/refused` }))
  t.ok(refused instanceof PermanentDeliveryError)
  t.equal(refused.code, 'EGIF_ERR_DELIVERY_PERMANENT')
  t.equal(refused.message, `${base}/refused answered 400: ${'ไม่รับเอกสารนี้ '.repeat(40).slice(0, 200)}`, 'characters, not bytes')
  t.ok(await failure(deliver(a, { url: `${base}/gone` })) instanceof PermanentDeliveryError)
  const moved = await failure(deliver(a, { url: `${base}/moved` }))
  t.ok(moved instanceof PermanentDeliveryError, 'a redirect is not followed: the configured URL is wrong')
  t.match(moved.message, /answered 301/)
  t.equal(p.seen.length, 10, 'one request each, none sent after the redirect')
  // undici may open a second connection for the request that follows the first one's answer at
  // once (before the first connection is counted free); from then on they are reused.
  t.ok(p.connections <= 2, `every answer was read, so the connections carried them all (${p.connections})`)
})

t.test('connections are kept open, reused, and closed by close()', async (t) => {
  const p = await peer(t, (_, res) => { setTimeout(() => res.writeHead(200).end('thanks'), 5) })
  const a = createHttpPushAdapter()
  for (let i = 0; i < 20; i++) await deliver(a, { url: p.url }, standardMessage({ body: `{"i":${i}}`, routing: { messageId: `seq-${i}` } }))
  t.ok(p.connections <= 2, `one after another: not a connection per delivery (${p.connections})`)
  await Promise.all(Array.from({ length: 40 }, async (_, i) => { await deliver(a, { url: p.url }, standardMessage({ body: `{"i":${i}}`, routing: { messageId: `par-${i}` } })) }))
  t.equal(p.seen.length, 60)
  t.ok(p.connections <= 42, `about one connection per request in flight (${p.connections})`)
  const before = p.connections
  await new Promise((resolve) => setImmediate(resolve))
  await Promise.all(Array.from({ length: 40 }, async (_, i) => { await deliver(a, { url: p.url }, standardMessage({ body: `{"i":${i}}`, routing: { messageId: `again-${i}` } })) }))
  t.ok(p.connections - before < 10, `the second burst reuses the open connections (${before} then ${p.connections})`)
  t.ok(p.open.size > 0, 'idle connections stay open between deliveries')

  await a.close!()
  const deadline = Date.now() + 2000
  while (p.open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(p.open.size, 0, 'close() closes them')

  await deliver(a, { url: p.url }, standardMessage({ body: '{}', routing: { messageId: 'after-close' } }))
  t.equal(p.seen.at(-1)?.headers['egif-message-id'], 'after-close', 'a delivery after close() opens a new connection')
  await a.close!()
})

t.test('close() lets a request in flight finish', async (t) => {
  const p = await peer(t, (_, res) => { setTimeout(() => res.writeHead(200).end(), 200) })
  const a = createHttpPushAdapter()
  const inFlight = deliver(a, { url: p.url })
  while (p.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  await a.close!()
  await t.resolves(inFlight, 'the delivery in flight got its answer')
})

t.test('DeliveryHttpClient: the answer\'s status, its headers by lower-case name (repeated ones as a list), and the start of its body', async (t) => {
  const p = await peer(t, (req, res) => {
    if (req.url.startsWith('/hints')) res.writeEarlyHints({ link: '</a.css>; rel=preload' })
    res.writeHead(201, [['X-Trace', 'a'], ['x-trace', 'b'], ['Retry-After', '7'], ['__proto__', 'plain'], ['Content-Type', 'text/plain']])
    res.end('é'.repeat(3000))
  })
  const client = new DeliveryHttpClient({ keepBytes: 10 })
  t.teardown(async () => { await client.close() })
  const paths = ['/plain', '/hints', '/plain', '/hints', '/plain']
  for (const path of paths) {
    const answer = await client.request(new URL(path, p.url).href, { headers: { 'content-type': 'text/plain' }, body: 'x', signal: AbortSignal.timeout(5000) })
    t.equal(answer.status, 201, `${path}: the final status, not a 1xx before it`)
    t.same(answer.headers['x-trace'], ['a', 'b'])
    t.equal(answer.headers['retry-after'], '7')
    t.equal(answer.headers.__proto__, 'plain', 'a header named __proto__ is a header')
    t.equal(Object.getPrototypeOf(answer.headers), null)
    t.equal(answer.text, 'ééééé', 'the first keepBytes bytes, decoded')
  }
  // undici may open a second connection for a request sent while the first one's answer completes.
  t.ok(p.connections <= 2, `the whole body was read each time, so connections carried later requests (${p.connections} for ${paths.length})`)
})

t.test('no answer: refused, reset, cut off and timed out are transient', async (t) => {
  const a = adapter(t)
  const refused = await failure(deliver(a, { url: 'http://127.0.0.1:9/closed' }))
  t.ok(refused instanceof TransientDeliveryError)
  t.equal(refused.code, 'EGIF_ERR_DELIVERY_TRANSIENT')
  t.match(refused.message, /^cannot reach http:\/\/127\.0\.0\.1:9\/closed: ECONNREFUSED$/)

  const reset = await peer(t, (req) => { req.socket.resetAndDestroy() })
  const r = await failure(deliver(a, { url: reset.url }))
  t.ok(r instanceof TransientDeliveryError)
  t.equal(r.code, 'EGIF_ERR_DELIVERY_TRANSIENT')
  t.match(r.message, /^cannot reach /)

  const cut = await peer(t, (req, res) => { res.writeHead(200, { 'content-length': '100' }); res.write('partial'); setTimeout(() => req.socket.destroy(), 20) })
  await t.resolves(deliver(a, { url: cut.url }), 'a 2xx whose body breaks off is still a 2xx: the recipient said it has the document')

  const hang = await peer(t, () => { /* never answers */ })
  const started = Date.now()
  const timedOut = await failure(deliver(a, { url: hang.url }, undefined, AbortSignal.timeout(200)))
  t.ok(timedOut instanceof TransientDeliveryError)
  t.equal(timedOut.code, 'EGIF_ERR_DELIVERY_TIMEOUT')
  t.match(timedOut.message, /no answer from .* in time/)
  t.ok(Date.now() - started < 2000, 'given up when the signal fired')
  const carried = hang.seen[0].socket
  const deadline = Date.now() + 2000
  while (!carried.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(carried.closed, 'the aborted request\'s connection is closed, not reused')

  const ac = new AbortController()
  ac.abort()
  const before = hang.seen.length
  const early = await failure(deliver(a, { url: hang.url }, undefined, ac.signal))
  t.equal(early.code, 'EGIF_ERR_DELIVERY_TIMEOUT', 'a signal that has already fired')
  t.equal(hang.seen.length, before, 'and nothing is sent')
})

t.test('https: the server certificate is checked against the default CAs, NODE_EXTRA_CA_CERTS included', async (t) => {
  const dir = tmpDir(t)
  const ca = makeCa(dir, 'push-ca')
  const leaf = issue(dir, ca, 'recipient', 'server')
  const p = await peer(t, undefined, createHttpsServer({ key: readFileSync(leaf.key), cert: readFileSync(leaf.cert) }))
  t.match(p.url, /^https:/)

  // In this process the test CA is not trusted: the delivery is refused by the TLS check, and retried later.
  const untrusted = await failure(deliver(adapter(t), { url: p.url }))
  t.ok(untrusted instanceof TransientDeliveryError)
  t.match(untrusted.message, /^cannot reach https:.*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify)/i)
  t.equal(p.seen.length, 0, 'nothing reached an unverified server')

  // A process started with the CA added to the defaults delivers over https.
  const script = `
    import push from ${JSON.stringify(new URL('../../adapters/http-push/index.ts', import.meta.url).href)}
    import { standardMessage } from ${JSON.stringify(new URL('../../conformance/adapters/message.ts', import.meta.url).href)}
    import pino from 'pino'
    const msg = standardMessage({ body: '{"over":"tls"}' })
    await push.deliver(msg, { config: { url: ${JSON.stringify(p.url)}, headers: {} }, routing: msg.routing, log: pino({ level: 'silent' }), signal: AbortSignal.timeout(5000), services: {} })
    await push.close()
    console.log('delivered')`
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.cert }
  })
  t.equal(stdout.trim(), 'delivered')
  t.equal(p.seen.length, 1)
  t.equal(p.seen[0].body.toString(), '{"over":"tls"}')
})
