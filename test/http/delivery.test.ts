import t from 'tap'
import { verifySignedReceipt } from '../../src/crypto/receipt.js'
import { HubError } from '../../src/errors.js'
import { KEYS, NOTE, ORDER, headers, startHub, startSink, until } from '../helpers/hub.js'

const TO_C = { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C' }
const TO_B = { 'content-type': 'application/json', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-order' }

t.test('push: the recipient gets the same bytes, the routing header and the seal; the sender sees delivered', async (t) => {
  const sink = await startSink(t)
  const { app, hub } = await startHub(t, { pushUrl: sink.url })
  const body = NOTE('ส่งถึง C')
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'p-1', 'egif-conversation-id': 'conv-9' }) })
  t.equal(res.statusCode, 202)
  await until(async () => (await hub.store.get('TH-A', 'p-1'))?.state === 'delivered', 'delivery')
  t.equal(sink.requests.length, 1)
  const got = sink.requests[0]
  t.equal(got.body.toString(), body, 'byte for byte')
  t.match(got.headers, {
    'egif-message-id': 'p-1',
    'egif-sender': 'TH-A',
    'egif-receiver': 'TH-C',
    'egif-document-type': 'test-note',
    'egif-document-version': '1.0',
    'egif-conversation-id': 'conv-9',
    'egif-digest': res.json().digest,
    'content-type': 'application/xml'
  })
  t.equal(String(got.headers['egif-seal']).split('.').length, 3, 'EGIF-Seal is a compact JWS')

  const status = await app.inject({ url: '/v1/messages/p-1', headers: headers(KEYS.A, {}) })
  t.equal(status.statusCode, 200)
  const s = status.json()
  t.equal(s.state, 'delivered')
  t.same(s.events.map((e: { type: string }) => e.type), ['accepted', 'delivered'])
  t.match(s.deliveredReceipt, { status: 'delivered', messageId: 'p-1', digest: res.json().digest, deliveredAt: String, signature: String })
  t.equal((await app.inject({ url: '/v1/messages/p-1', headers: headers(KEYS.C, {}) })).statusCode, 200, 'the receiver may look')
  t.equal((await app.inject({ url: '/v1/messages/p-1', headers: headers(KEYS.AUDITOR, {}) })).statusCode, 200, 'and an auditor')
  t.equal((await app.inject({ url: '/v1/messages/p-1', headers: headers(KEYS.B, {}) })).statusCode, 404, 'nobody else')
})

t.test('push: the delivered receipt is signed when the sender first asks for it, then kept: every reader, and a restart, get the same one', async (t) => {
  const sink = await startSink(t)
  const first = await startHub(t, { pushUrl: sink.url })
  const res = await first.app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'lazy-1' }) })
  t.equal(res.statusCode, 202)
  await until(async () => (await first.hub.store.get('TH-A', 'lazy-1'))?.state === 'delivered', 'delivery')
  const stored = (await first.hub.store.get('TH-A', 'lazy-1'))!
  t.equal(stored.deliveredReceipt, undefined, 'the delivery signed none: nobody was waiting for it')
  const deliveredAt = stored.events.find((e) => e.type === 'delivered')!.at

  // The storage refusing to keep it: the sender still gets a valid receipt, and nothing is kept.
  const keep = first.hub.store.keepDeliveredReceipt.bind(first.hub.store)
  first.hub.store.keepDeliveredReceipt = async () => { throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', 'disk full') }
  const unkept = await first.app.inject({ url: '/v1/messages/lazy-1', headers: headers(KEYS.A, {}) })
  t.equal(unkept.statusCode, 200, 'the status answers while the receipt cannot be kept')
  const jwks = (await first.app.inject({ url: '/.well-known/jwks.json' })).json()
  t.match(verifySignedReceipt(unkept.json().deliveredReceipt, jwks), { status: 'delivered', messageId: 'lazy-1', deliveredAt }, 'with a receipt that verifies')
  t.equal((await first.hub.store.get('TH-A', 'lazy-1'))!.deliveredReceipt, undefined, 'none kept')
  first.hub.store.keepDeliveredReceipt = keep

  const asked = (await first.app.inject({ url: '/v1/messages/lazy-1', headers: headers(KEYS.A, {}) })).json().deliveredReceipt
  t.match(verifySignedReceipt(asked, jwks), { status: 'delivered', messageId: 'lazy-1', digest: res.json().digest, trail: res.json().trail, deliveredAt }, 'signed for the time of the delivery, over the accepted receipt\'s fields')
  t.same((await first.hub.store.get('TH-A', 'lazy-1'))!.deliveredReceipt, asked, 'and kept')
  t.same((await first.app.inject({ url: '/v1/messages/lazy-1', headers: headers(KEYS.AUDITOR, {}) })).json().deliveredReceipt, asked, 'the next reader gets the same one')
  t.same((await first.hub.store.get('TH-A', 'lazy-1'))!.events.map((e) => e.type), ['accepted', 'delivered'], 'asking adds no event')
  await first.hub.close()

  const second = await startHub(t, { pushUrl: sink.url, dataDir: first.dataDir })
  t.same((await second.app.inject({ url: '/v1/messages/lazy-1', headers: headers(KEYS.A, {}) })).json().deliveredReceipt, asked, 'so does a reader after a restart')
  t.equal(sink.requests.length, 1, 'delivered once')
})

t.test('push: 500 then 200 is retried with backoff, every attempt shown', async (t) => {
  const sink = await startSink(t)
  sink.answer = (n) => ({ status: n < 3 ? 500 : 200 })
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: (raw) => { raw.delivery.maxAttempts = 5 } })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'r-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'r-1'))?.state === 'delivered', 'delivery after retries')
  const events = (await hub.store.get('TH-A', 'r-1'))!.events
  t.same(events.map((e) => e.type), ['accepted', 'attempt-failed', 'attempt-failed', 'delivered'])
  t.match(events[1], { attempt: 1, code: 'EGIF_ERR_DELIVERY_TRANSIENT', detail: /answered 500/, nextAttemptAt: String })
  t.equal(events[3].attempt, 3)
  t.equal(sink.requests.length, 3)
  t.ok(sink.requests.every((r) => r.headers['egif-message-id'] === 'r-1'), 'retries carry the same id')
  t.same(sink.requests.map((r) => r.headers['egif-attempt']), ['1', '2', '3'])
})

t.test('push: 429 with Retry-After is respected', async (t) => {
  const sink = await startSink(t)
  sink.answer = (n) => n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: (raw) => { raw.delivery.maxBackoffMs = 5000 } })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'rl-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'rl-1'))?.state === 'delivered', 'delivery after Retry-After')
  const ev = (await hub.store.get('TH-A', 'rl-1'))!.events[1]
  t.ok(Date.parse(ev.nextAttemptAt!) - Date.parse(ev.at) >= 1000, 'the next attempt waited at least Retry-After')
})

t.test('push: a 4xx is permanent and dead-letters at once; exhausted retries dead-letter too', async (t) => {
  const sink = await startSink(t)
  sink.answer = (n) => ({ status: n === 1 ? 400 : 503 })
  const { app, hub } = await startHub(t, { pushUrl: sink.url })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'd-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'd-1'))?.state === 'dead-lettered', 'dead letter on 400')
  t.match((await hub.store.get('TH-A', 'd-1'))!.events.at(-1), { type: 'dead-lettered', attempt: 1, code: 'EGIF_ERR_DELIVERY_PERMANENT', detail: /answered 400/ })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE('b'), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'd-2' }) })
  await until(async () => (await hub.store.get('TH-A', 'd-2'))?.state === 'dead-lettered', 'dead letter after 3 attempts')
  const m = (await hub.store.get('TH-A', 'd-2'))!
  t.equal(m.attempts, 3)
  t.match(m.events.at(-1), { type: 'dead-lettered', detail: /gave up after 3 attempts/ })
  t.same((await hub.store.deadLetters()).map((x) => x.messageId).sort(), ['d-1', 'd-2'])
})

t.test('push: a refused connection and a slow recipient are retried', async (t) => {
  const { app, hub } = await startHub(t, { pushUrl: 'http://127.0.0.1:9/closed', patch: (raw) => { raw.delivery.maxAttempts = 2 } })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'c-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'c-1'))?.state === 'dead-lettered', 'dead letter after refused connections')
  t.match((await hub.store.get('TH-A', 'c-1'))!.events[1], { type: 'attempt-failed', detail: /cannot reach/ })

  const slow = await startSink(t)
  slow.server.removeAllListeners('request')
  slow.server.on('request', () => { /* never answers */ })
  const h2 = await startHub(t, { pushUrl: slow.url, patch: (raw) => { raw.delivery.maxAttempts = 2; raw.delivery.timeoutMs = 200 } })
  await h2.app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 's-1' }) })
  await until(async () => (await h2.hub.store.get('TH-A', 's-1'))?.state === 'dead-lettered', 'dead letter after timeouts')
  t.match((await h2.hub.store.get('TH-A', 's-1'))!.events[1], { type: 'attempt-failed', code: 'EGIF_ERR_DELIVERY_TIMEOUT' })
})

t.test('pull: list, fetch the exact bytes with the seal, ack once; un-acked stays', async (t) => {
  const { app, hub } = await startHub(t)
  const bodies = [ORDER('o-1', 1), ORDER('o-2', 2)]
  for (const [i, b] of bodies.entries()) {
    const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: b, headers: headers(KEYS.A, { ...TO_B, 'egif-message-id': `m-${i}` }) })
    t.equal(res.statusCode, 202)
  }
  await until(async () => (await hub.store.inbox('TH-B')).messages.length === 2, 'mailbox')
  const list = await app.inject({ url: '/v1/inbox', headers: headers(KEYS.B, {}) })
  t.same(list.json().messages.map((m: { messageId: string }) => m.messageId), ['m-0', 'm-1'])
  const page = await app.inject({ url: '/v1/inbox?limit=1', headers: headers(KEYS.B, {}) })
  t.equal(page.json().messages.length, 1)
  t.type(page.json().next, 'string', 'a cursor for the next page')
  const page2 = await app.inject({ url: `/v1/inbox?limit=1&after=${String(page.json().next)}`, headers: headers(KEYS.B, {}) })
  t.same(page2.json().messages.map((m: { messageId: string }) => m.messageId), ['m-1'], 'the next page starts after it')
  t.equal(page2.json().next, undefined, 'and is the last')
  const zero = await app.inject({ url: '/v1/inbox?limit=0', headers: headers(KEYS.B, {}) })
  t.equal(zero.json().messages.length, 1, 'limit 0 is taken as 1')
  for (const bad of ['abc', '-5', '1.5']) {
    const res = await app.inject({ url: `/v1/inbox?limit=${bad}`, headers: headers(KEYS.B, {}) })
    t.equal(res.statusCode, 400, `limit=${bad} is refused`)
    t.match(res.json(), { code: 'EGIF_ERR_BAD_REQUEST', detail: 'limit must be a whole number' })
  }
  const fetched = await app.inject({ url: '/v1/inbox/m-1', headers: headers(KEYS.B, {}) })
  t.equal(fetched.statusCode, 200)
  t.equal(fetched.body, bodies[1], 'the exact bytes')
  t.equal(fetched.headers['egif-sender'], 'TH-A')
  t.equal(String(fetched.headers['egif-seal']).split('.').length, 3)
  t.equal(fetched.headers['content-type'], 'application/json')
  const ack = await app.inject({ method: 'POST', url: '/v1/inbox/m-1/ack', headers: headers(KEYS.B, {}) })
  t.equal(ack.statusCode, 200)
  t.match(ack.json(), { status: 'delivered', messageId: 'm-1', signature: String })
  const again = await app.inject({ method: 'POST', url: '/v1/inbox/m-1/ack', headers: headers(KEYS.B, {}) })
  t.same(again.json(), ack.json(), 'a second ack returns the same receipt')
  const after = await app.inject({ url: '/v1/inbox', headers: headers(KEYS.B, {}) })
  t.same(after.json().messages.map((m: { messageId: string }) => m.messageId), ['m-0'], 'the un-acked message stays')
  const status = await app.inject({ url: '/v1/messages/m-1', headers: headers(KEYS.A, {}) })
  t.equal(status.json().state, 'acked')
  t.same(status.json().events.map((e: { type: string }) => e.type), ['accepted', 'in-mailbox', 'acked'])
  t.same(status.json().deliveredReceipt, ack.json(), 'the sender gets the delivered receipt from the status API')
  t.equal((await app.inject({ url: '/v1/inbox', headers: headers(KEYS.C, {}) })).json().code, 'EGIF_ERR_INBOX_NOT_PULL')
  t.equal((await app.inject({ url: '/v1/inbox/m-0', headers: headers(KEYS.A, {}) })).statusCode, 404, 'a sender cannot read the receiver\'s mailbox')
})

t.test('pull: acks of one message at once record one ack, and every caller gets its receipt', async (t) => {
  const { app, hub } = await startHub(t)
  t.equal((await app.inject({ method: 'POST', url: '/v1/messages', payload: ORDER(), headers: headers(KEYS.A, { ...TO_B, 'egif-message-id': 'twice' }) })).statusCode, 202)
  await until(async () => (await hub.store.inbox('TH-B')).messages.length === 1, 'mailbox')
  const acks = await Promise.all(Array.from({ length: 5 }, async () => await app.inject({ method: 'POST', url: '/v1/inbox/twice/ack', headers: headers(KEYS.B, {}) })))
  t.same(acks.map((a) => a.statusCode), [200, 200, 200, 200, 200])
  for (const a of acks.slice(1)) t.same(a.json(), acks[0].json(), 'the same delivered receipt for every caller')
  const status = (await app.inject({ url: '/v1/messages/twice', headers: headers(KEYS.A, {}) })).json()
  t.same(status.events.map((e: { type: string }) => e.type), ['accepted', 'in-mailbox', 'acked'], 'one acked event')
  t.same(status.deliveredReceipt, acks[0].json(), 'the receipt kept')
  t.same(hub.trail.search({ messageId: 'twice' }).records.map((r) => r.type), ['accepted', 'in-mailbox', 'acked'], 'one acked record in the trail')
})

t.test('the mailbox survives a restart', async (t) => {
  const first = await startHub(t)
  await first.app.inject({ method: 'POST', url: '/v1/messages', payload: ORDER(), headers: headers(KEYS.A, { ...TO_B, 'egif-message-id': 'keep-1' }) })
  await until(async () => (await first.hub.store.inbox('TH-B')).messages.length === 1, 'mailbox')
  await first.hub.close()
  const second = await startHub(t, { dataDir: first.dataDir })
  const list = await second.app.inject({ url: '/v1/inbox', headers: headers(KEYS.B, {}) })
  t.same(list.json().messages.map((m: { messageId: string }) => m.messageId), ['keep-1'])
  t.equal((await second.app.inject({ url: '/v1/inbox/keep-1', headers: headers(KEYS.B, {}) })).body, ORDER())
})

t.test('a receiver may have its own attempts and backoff', async (t) => {
  const sink = await startSink(t)
  sink.answer = () => ({ status: 503 })
  const { app, hub } = await startHub(t, {
    pushUrl: sink.url,
    patch: (raw) => { raw.delivery.maxAttempts = 5; raw.participants[2].delivery.retry = { maxAttempts: 2, initialBackoffMs: 5 } }
  })
  await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': 'own-1' }) })
  await until(async () => (await hub.store.get('TH-A', 'own-1'))?.state === 'dead-lettered', 'dead letter after the receiver\'s own 2 attempts')
  const m = (await hub.store.get('TH-A', 'own-1'))!
  t.equal(m.attempts, 2, 'the receiver\'s maxAttempts, not the hub\'s 5')
  t.equal(sink.requests.length, 2)
})

t.test('push: a recipient gets at most delivery.maxConcurrent requests at once, and every message arrives', async (t) => {
  const sink = await startSink(t)
  sink.server.removeAllListeners('request')
  let open = 0
  let most = 0
  const seen = new Set<string>()
  sink.server.on('request', (req, res) => {
    open++
    most = Math.max(most, open)
    req.resume()
    req.on('end', () => {
      setTimeout(() => {
        seen.add(String(req.headers['egif-message-id']))
        open--
        res.writeHead(200).end()
      }, 30)
    })
  })
  const { app, hub } = await startHub(t, {
    pushUrl: sink.url,
    patch: (raw) => {
      raw.delivery.concurrency = 8
      raw.participants[2].delivery.maxConcurrent = 2
    }
  })
  const ids = Array.from({ length: 10 }, (_, i) => `mc-${i}`)
  for (const id of ids) {
    const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': id }) })
    t.equal(res.statusCode, 202)
  }
  await until(() => hub.worker.load('TH-C').waiting > 0, 'deliveries waiting for a slot')
  t.equal(hub.worker.load('TH-C').running, 2, 'two under way while the others wait')
  await until(async () => (await Promise.all(ids.map(async (id) => (await hub.store.get('TH-A', id))?.state))).every((s) => s === 'delivered'), 'every delivery')
  t.ok(most <= 2, `never more than two requests open at the recipient (saw ${most})`)
  t.equal(seen.size, 10)
  for (const id of ids) t.same((await hub.store.get('TH-A', id))!.events.map((e) => e.type), ['accepted', 'delivered'], `${id}: one attempt, no failure for the wait`)
})

t.test('push: the hub-wide delivery.perRecipient applies to a recipient without its own limit', async (t) => {
  const sink = await startSink(t)
  sink.server.removeAllListeners('request')
  let open = 0
  let most = 0
  let holding = true
  const held: Array<() => void> = []
  sink.server.on('request', (req, res) => {
    open++
    most = Math.max(most, open)
    req.resume()
    req.on('end', () => {
      const answer = (): void => { open--; res.writeHead(200).end() }
      if (holding) held.push(answer)
      else answer()
    })
  })
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: (raw) => { raw.delivery.concurrency = 8; raw.delivery.perRecipient = 3 } })
  const ids = Array.from({ length: 9 }, (_, i) => `pr-${i}`)
  for (const id of ids) await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': id }) })
  // The recipient answers nothing yet: three requests reach it, and deliveries wait for a slot
  // until six of the process's eight are held; the other three are given back to the queue, again
  // and again while it stays busy.
  await until(() => open === 3 && hub.worker.load('TH-C').waiting === 3 && hub.worker.load('TH-C').givenBack >= 6, 'three requests at the recipient, three deliveries waiting, the rest given back')
  t.match(hub.worker.load('TH-C'), { running: 3, waiting: 3 })
  holding = false
  for (const f of held.splice(0)) f()
  await until(async () => (await Promise.all(ids.map(async (id) => (await hub.store.get('TH-A', id))?.state))).every((s) => s === 'delivered'), 'every delivery')
  t.equal(most, 3, 'never more than three at once')
})

t.test('push: deliveries waiting for a slot or given back when the hub stops make no attempt, and the next start delivers them', async (t) => {
  const sink = await startSink(t)
  sink.server.removeAllListeners('request')
  let answering = false
  const held: Array<() => void> = []
  sink.server.on('request', (req, res) => {
    req.resume()
    req.on('end', () => {
      if (answering) res.writeHead(200).end()
      else held.push(() => res.writeHead(200).end())
    })
  })
  t.teardown(() => { for (const f of held) f() })
  // Three deliveries at once in the process and one at a time to TH-C: of three messages one is
  // under way, one waits for its slot and one is given back to the queue.
  const patch = (raw: any): void => { raw.delivery.concurrency = 3; raw.participants[2].delivery.maxConcurrent = 1 }
  const first = await startHub(t, { pushUrl: sink.url, patch })
  const ids = ['sw-1', 'sw-2', 'sw-3']
  for (const id of ids) await first.app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': id }) })
  await until(() => first.hub.worker.load('TH-C').waiting === 1 && first.hub.worker.load('TH-C').givenBack > 0, 'one delivery waiting behind the one under way, one given back')
  await first.hub.close()
  const events = await Promise.all(ids.map(async (id) => (await first.hub.store.get('TH-A', id))?.events.map((e) => e.type)))
  t.equal(events.filter((e) => e?.length === 1).length, 2, 'the two that did not start have no event but accepted')
  answering = true
  for (const f of held.splice(0)) f()
  const second = await startHub(t, { pushUrl: sink.url, patch, dataDir: first.dataDir })
  await until(async () => (await Promise.all(ids.map(async (id) => (await second.hub.store.get('TH-A', id))?.state))).every((s) => s === 'delivered'), 'every delivery after the restart')
})

t.test('push: a recipient that does not answer holds no more of the hub\'s deliveries than its limit and a few waiting; others are delivered meanwhile', async (t) => {
  const sink = await startSink(t)
  sink.server.removeAllListeners('request')
  const held: Array<() => void> = []
  sink.server.on('request', (req, res) => {
    req.resume()
    req.on('end', () => { held.push(() => res.writeHead(200).end()) })
  })
  t.teardown(() => { for (const f of held) f() })
  // Four deliveries at once in all; TH-C takes two at a time, and past three of the four held
  // only one may wait for them.
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: (raw) => { raw.delivery.concurrency = 4; raw.participants[2].delivery.maxConcurrent = 2 } })
  const ids = Array.from({ length: 12 }, (_, i) => `hol-${i}`)
  for (const id of ids) await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { ...TO_C, 'egif-message-id': id }) })
  await until(() => held.length === 2 && hub.worker.load('TH-C').givenBack > 0, 'two requests at TH-C, deliveries given back')
  t.equal(hub.worker.load('TH-C').waiting, 1, 'one delivery waits for TH-C')
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: ORDER('o-hol', 1), headers: headers(KEYS.A, { ...TO_B, 'egif-message-id': 'hol-b' }) })
  t.equal(res.statusCode, 202)
  await until(async () => (await hub.store.get('TH-A', 'hol-b'))?.state === 'in-mailbox', 'the message to TH-B in its mailbox while TH-C answers nothing')
  t.equal(held.length, 2, 'and TH-C still has only two requests')
  for (const id of ids) t.equal((await hub.store.get('TH-A', id))!.attempts, 0, `${id}: no attempt counted yet`)
  for (const f of held.splice(0)) f()
  sink.server.removeAllListeners('request')
  sink.server.on('request', (req, res) => { req.resume(); req.on('end', () => { res.writeHead(200).end() }) })
  await until(async () => (await Promise.all(ids.map(async (id) => (await hub.store.get('TH-A', id))?.state))).every((s) => s === 'delivered'), 'every message to TH-C once it answers', 15_000)
  for (const id of ids) t.same((await hub.store.get('TH-A', id))!.events.map((e) => e.type), ['accepted', 'delivered'], `${id}: one attempt`)
})
