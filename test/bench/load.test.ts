import { createServer, type Server } from 'node:net'
import t, { type Test } from 'tap'
import { preparedRequests, runLoad } from '../../bench/lib/load.js'

const variants = [
  { headers: { 'content-type': 'application/xml', 'egif-sender': 'TH-A' }, body: Buffer.from('<a>1</a>') },
  { headers: { 'content-type': 'application/json', 'egif-sender': 'TH-B' }, body: Buffer.from('{"b":2}') }
]

t.test('a prepared request is its variant\'s head, its own id and its body, in turn over the variants', async (t) => {
  const make = preparedRequests(variants, 'egif-message-id', (i) => `m-${i}`)
  const text = (i: number): string => Buffer.concat(make(i, '/v1/messages', 'h:1')).toString('latin1')
  t.equal(text(0), 'POST /v1/messages HTTP/1.1\r\nhost: h:1\r\ncontent-length: 8\r\ncontent-type: application/xml\r\negif-sender: TH-A\r\negif-message-id: m-0\r\n\r\n<a>1</a>')
  t.equal(text(1), 'POST /v1/messages HTTP/1.1\r\nhost: h:1\r\ncontent-length: 7\r\ncontent-type: application/json\r\negif-sender: TH-B\r\negif-message-id: m-1\r\n\r\n{"b":2}')
  t.match(text(2), /egif-sender: TH-A\r\negif-message-id: m-2\r\n\r\n<a>1<\/a>$/, 'the variants in turn')
  t.match(text(0).replace('/v1/messages', '/x'), /^POST \/x /)
  t.match(Buffer.concat(make(3, '/other', 'h:2')).toString('latin1'), /^POST \/other HTTP\/1\.1\r\nhost: h:2\r\n/, 'each target its own head')
  t.equal(make(0, '/v1/messages', 'h:1')[0], make(2, '/v1/messages', 'h:1')[0], 'a variant\'s head is made once per target, not per request')
})

/** A server that reads requests off the socket and answers each with 202 and a small body; it keeps the ids it saw. */
async function recipient (t: Test): Promise<{ url: string, ids: string[] }> {
  const ids: string[] = []
  const server: Server = createServer((socket) => {
    let buf = ''
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1')
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.slice(0, end)
        const length = Number(/content-length: (\d+)/.exec(head)?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        ids.push(/egif-message-id: (\S+)/.exec(head)?.[1] ?? '')
        buf = buf.slice(end + 4 + length)
        socket.write('HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}')
      }
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/v1/messages`, ids }
}

t.test('a closed loop sends each request whole, one id each, and counts the answers', async (t) => {
  const r = await recipient(t)
  const res = await runLoad({ urls: [r.url], make: preparedRequests(variants, 'egif-message-id', (i) => `c-${i}`), durationMs: 200, concurrency: 4 })
  t.ok(res.ok > 0, `answered (${res.ok})`)
  t.equal(res.errors, 0)
  t.same(res.statuses, { 202: res.ok })
  t.equal(r.ids.length, res.requests, 'the recipient read every request the load sent')
  t.equal(new Set(r.ids).size, r.ids.length, 'each with an id of its own')
  t.equal(res.next, r.ids.length, 'the next unused index follows the last one sent')
})

t.test('an open loop sends every request due within the run, from the given first index', async (t) => {
  const r = await recipient(t)
  const res = await runLoad({ urls: [r.url], make: preparedRequests(variants, 'egif-message-id', (i) => `o-${i}`), first: 100, durationMs: 500, concurrency: 8, rate: 40 })
  // Due at 0, 25, …, 500 ms.
  const due = 500 / 25 + 1
  t.equal(res.ok, due)
  t.same(r.ids.slice().sort(), Array.from({ length: due }, (_, k) => `o-${100 + k}`).sort())
  t.equal(res.next, 100 + due)
})
