import t from 'tap'
import { hashApiKey } from '../../src/registry/participants.js'
import { verifySignedReceipt } from '../../src/crypto/receipt.js'
import type { Jwks } from '../../src/crypto/jwk.js'
import { FIXTURE_TYPES, KEYS, NOTE, ORDER, startSink, until } from '../helpers/hub.js'
import { freePort, startChildHub, writeConfig } from '../helpers/child-hub.js'
import { SHARED_REDIS, redisPrefix } from '../helpers/redis.js'
import { tmpDir } from '../helpers/tmp.js'

/**
 * Cluster mode with real processes: two hubs on different ports share one Redis. Any process
 * accepts, any delivers; status, mailbox, idempotency and dead letters agree whichever is asked.
 */
for (const queue of ['bullmq', 'stream']) t.test(`two hub processes on one Redis behave as one hub (${queue} queue)`, async (t) => {
  const dir = tmpDir(t)
  const prefix = await redisPrefix(t)
  const sink = await startSink(t)
  const refusing = await startSink(t)
  refusing.answer = () => ({ status: 400 })
  const cfg = writeConfig(dir, {
    hub: { id: 'CLUSTER-HUB', host: '127.0.0.1', dataDir: `${dir}/data`, logLevel: 'warn' },
    cluster: { prefix, lockDurationMs: 2000, sweepIntervalMs: 2000, queue },
    delivery: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200, timeoutMs: 2000, concurrency: 4 },
    documentTypes: { builtin: false, folders: [FIXTURE_TYPES + 'test-note', FIXTURE_TYPES + 'test-order'] },
    participants: [
      { id: 'TH-A', name: { en: 'A' }, apiKeys: [hashApiKey(KEYS.A)] },
      { id: 'TH-B', name: { en: 'B' }, apiKeys: [hashApiKey(KEYS.B)], delivery: { mode: 'pull' } },
      { id: 'TH-C', name: { en: 'C' }, apiKeys: [hashApiKey(KEYS.C)], delivery: { mode: 'push', adapter: 'http-push', config: { url: sink.url } } },
      { id: 'TH-D', name: { en: 'D' }, delivery: { mode: 'push', adapter: 'http-push', config: { url: refusing.url } } }
    ],
    auditors: [{ id: 'AUDITOR', apiKeys: [hashApiKey(KEYS.AUDITOR)] }],
    routes: [{ from: 'TH-A', to: '*', types: ['*'] }]
  })
  const env = { REDIS_URL: SHARED_REDIS }
  // Each process has a data directory (and so a generated hub key) of its own, as on two machines.
  const [p1, p2] = [await startChildHub(cfg, await freePort(), { ...env, EGIF_DATA_DIR: `${dir}/p1` }), await startChildHub(cfg, await freePort(), { ...env, EGIF_DATA_DIR: `${dir}/p2` })]
  t.teardown(() => { p1.proc.kill('SIGKILL'); p2.proc.kill('SIGKILL') })
  t.match(await (await fetch(`${p1.url}/ready`)).json(), { ready: true, mode: 'cluster' })

  const send = async (url: string, id: string, to: string, body: string, json = false): Promise<Response> => await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEYS.A}`,
      'content-type': json ? 'application/json' : 'application/xml',
      'egif-message-id': id,
      'egif-sender': 'TH-A',
      'egif-receiver': to,
      ...(json ? { 'egif-document-type': 'test-order' } : {})
    },
    body
  })
  const status = async (url: string, id: string, key = KEYS.A): Promise<Record<string, unknown>> =>
    await (await fetch(`${url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } })).json() as Record<string, unknown>

  // Any process accepts.
  const ids: string[] = []
  for (let i = 0; i < 40; i++) {
    const res = await send(i % 2 === 0 ? p1.url : p2.url, `c-${i}`, i % 4 < 2 ? 'TH-C' : 'TH-B', i % 4 < 2 ? NOTE(`n${i}`) : ORDER(`o${i}`, i), i % 4 >= 2)
    t.equal(res.status, 202, `c-${i} accepted by process ${i % 2 + 1}`)
    ids.push(`c-${i}`)
  }
  // Any delivers: every push message reaches the recipient, once.
  const pushIds = ids.filter((_, i) => i % 4 < 2)
  const delivered = (): Set<string> => new Set(sink.requests.map((r) => String(r.headers['egif-message-id'])))
  await until(() => pushIds.every((id) => delivered().has(id)), 'every push message delivered', 20000)
  t.equal(sink.requests.length, pushIds.length, 'each delivered once')

  // Status agrees whichever process is asked.
  for (const id of ['c-0', 'c-1']) {
    const [a, b] = [await status(p1.url, id), await status(p2.url, id)]
    t.equal(a.state, 'delivered')
    t.match(a.deliveredReceipt, { status: 'delivered', messageId: id, deliveredAt: String, signature: String }, `${id}: the delivered receipt, signed by the process asked first`)
    t.same(a, b, `${id}: the same status from both processes, the same delivered receipt`)
  }

  // Idempotency across processes.
  const dup = await send(p2.url, 'c-0', 'TH-C', NOTE('n0'))
  t.equal(dup.status, 200, 'the same id and bytes at the other process: 200')
  t.same(await dup.json(), (await status(p1.url, 'c-0')).receipt, 'with the original receipt')

  // A receipt signed by one process verifies with the keys published by the other.
  const jwks2 = await (await fetch(`${p2.url}/.well-known/jwks.json`)).json() as Jwks
  t.equal(jwks2.keys.length, 2, 'the cluster JWKS holds both processes\' keys')
  for (const id of ['c-0', 'c-1']) t.match(verifySignedReceipt((await status(p1.url, id)).receipt as object, jwks2), { messageId: id })
  const conflict = await send(p2.url, 'c-0', 'TH-C', NOTE('other'))
  t.equal(conflict.status, 409, 'other bytes at the other process: 409')

  // The mailbox is one mailbox.
  const pullIds = ids.filter((_, i) => i % 4 >= 2)
  const inbox = async (url: string): Promise<string[]> => ((await (await fetch(`${url}/v1/inbox?limit=1000`, { headers: { authorization: `Bearer ${KEYS.B}` } })).json()) as { messages: Array<{ messageId: string }> }).messages.map((m) => m.messageId)
  await until(async () => (await inbox(p2.url)).length === pullIds.length, 'every pull message in the mailbox', 20000)
  t.same((await inbox(p1.url)).sort(), [...pullIds].sort())
  const ack = await fetch(`${p1.url}/v1/inbox/${pullIds[0]}/ack`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.B}` } })
  t.equal(ack.status, 200)
  t.notOk((await inbox(p2.url)).includes(pullIds[0]), 'acked at one process, gone at the other')
  t.equal((await status(p2.url, pullIds[0])).state, 'acked')

  // Dead letters agree.
  t.equal((await send(p2.url, 'dead-1', 'TH-D', NOTE('dead'))).status, 202)
  await until(async () => (await status(p1.url, 'dead-1')).state === 'dead-lettered', 'dead letter', 20000)
  t.match(await status(p2.url, 'dead-1'), { state: 'dead-lettered', events: [{ type: 'accepted' }, { type: 'dead-lettered', code: 'EGIF_ERR_DELIVERY_PERMANENT' }] })

  p1.proc.kill('SIGTERM')
  p2.proc.kill('SIGTERM')
  t.same([await p1.exited, await p2.exited], [0, 0], 'both stop cleanly on SIGTERM')
})
