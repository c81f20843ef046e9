import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KEYS, NOTE, headers, startHub, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'
import { verifyCheckpoint } from '../../src/trail/checkpoint.js'
import { fromHex, leafHash } from '../../src/trail/hash.js'
import { verifyConsistency, verifyInclusion } from '../../src/trail/merkle.js'
import { verifyTrails } from '../../src/trail/verify.js'

function send (id: string, key = KEYS.A, more: Record<string, string> = {}) {
  return {
    method: 'POST' as const,
    url: '/v1/messages',
    headers: headers(key, { 'content-type': 'application/xml', 'egif-message-id': id, 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-note', ...more }),
    payload: NOTE(id)
  }
}

t.test('every event of a message is in the trail; receipts name the accepted record', async (t) => {
  const { hub, app } = await startHub(t)
  const trusted = hub.keys.all.map((k) => ({ kid: k.kid, publicKey: k.publicKey }))
  const accepted = await app.inject(send('msg-1'))
  t.equal(accepted.statusCode, 202)
  const receipt = accepted.json()
  t.equal(receipt.trail.log, 'TEST-HUB')
  const rec = hub.trail.index.record(receipt.trail.index)
  t.match(rec, { type: 'accepted', messageId: 'msg-1', sender: 'TH-A', receiver: 'TH-B', documentType: 'test-note', digest: receipt.digest })
  t.notMatch(hub.trail.index.line(receipt.trail.index).toString(), /สวัสดี|Subject/, 'no body in the trail')

  // A refused request: the claimed sender and the reason are recorded.
  const refused = await app.inject(send('msg-x', KEYS.C))
  t.equal(refused.statusCode, 403)
  await until(() => hub.trail.search({ messageId: 'msg-x' }).records.length > 0, 'the rejection record')

  await until(async () => (await hub.store.get('TH-A', 'msg-1'))?.state === 'in-mailbox', 'the mailbox')
  t.equal((await app.inject({ method: 'POST', url: '/v1/inbox/msg-1/ack', headers: headers(KEYS.B, {}) })).statusCode, 200)

  const search = (q: string, key = KEYS.AUDITOR) => app.inject({ method: 'GET', url: `/v1/audit/events?${q}`, headers: headers(key, {}) })
  t.same((await search('messageId=msg-1')).json().records.map((r: { type: string }) => r.type), ['accepted', 'in-mailbox', 'acked'])
  t.match((await search('participant=TH-C')).json().records, [{ type: 'rejected', caller: 'TH-C', claimedSender: 'TH-A', code: 'EGIF_ERR_SENDER_MISMATCH', status: 403 }])
  t.equal((await search('documentType=test-note')).json().records.length, 3)
  t.equal((await search(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json().records.length, 0)
  t.same((await search('').then((r) => r.json())).records.slice(0, 3).map((r: { type: string }) => r.type), ['started', 'config-changed', 'keys-changed'])
  t.equal((await search('messageId=msg-1', KEYS.A)).statusCode, 403, 'participants do not search the trail')
  t.equal((await search('from=yesterday')).statusCode, 400)

  // The sender proves the hub received its message: inclusion under a signed checkpoint.
  const proofRes = await app.inject({ method: 'GET', url: '/v1/trail/proof/msg-1', headers: headers(KEYS.A, {}) })
  t.equal(proofRes.statusCode, 200)
  const proof = proofRes.json()
  const body = verifyCheckpoint(proof.checkpoint, trusted)
  t.equal(body.size, proof.size)
  t.equal(proof.records.length, 3)
  for (const r of proof.records) {
    t.ok(verifyInclusion(leafHash(Buffer.from(r.record)), r.index, body.size, r.proof.map((h: string) => fromHex(h, 'proof')), fromHex(body.root, 'root')))
  }
  t.equal((await app.inject({ method: 'GET', url: '/v1/trail/proof/msg-1', headers: headers(KEYS.C, {}) })).statusCode, 404, 'not the caller\'s message')

  // A later checkpoint extends the earlier one.
  await hub.trail.append({ type: 'started', detail: 'a later record' })
  const later = (await hub.trail.checkpoint())!.body
  const cons = (await app.inject({ method: 'GET', url: `/v1/trail/consistency?from=${body.size}&to=${later.size}`, headers: headers(KEYS.B, {}) })).json()
  t.ok(verifyConsistency(body.size, later.size, cons.proof.map((h: string) => fromHex(h, 'proof')), fromHex(body.root, 'root'), fromHex(later.root, 'root')))

  // The auditor's bundle verifies offline, and holds the whole history of the message.
  const exp = await app.inject({ method: 'GET', url: '/v1/audit/export', headers: headers(KEYS.AUDITOR, {}) })
  t.equal(exp.statusCode, 200)
  t.match(exp.headers['content-type'], /ndjson/)
  const file = join(tmpDir(t), 'bundle.jsonl')
  writeFileSync(file, exp.rawPayload)
  const { reports, history } = verifyTrails([{ kind: 'bundle', file }], { keys: trusted, history: true })
  t.equal(reports[0].ok, true, JSON.stringify(reports[0].problems))
  t.same(history.get('msg-1')!.map((e) => e.type), ['accepted', 'in-mailbox', 'acked'])
  t.equal((await app.inject({ method: 'GET', url: '/v1/audit/export', headers: headers(KEYS.A, {}) })).statusCode, 403)
})

t.test('a period bundle starts just before the period and verifies', async (t) => {
  const { hub, app } = await startHub(t)
  const trusted = hub.keys.all.map((k) => ({ kid: k.kid, publicKey: k.publicKey }))
  for (let i = 0; i < 5; i++) t.equal((await app.inject(send(`early-${i}`))).statusCode, 202)
  await new Promise((r) => setTimeout(r, 5))
  const from = new Date().toISOString()
  await new Promise((r) => setTimeout(r, 5))
  for (let i = 0; i < 3; i++) t.equal((await app.inject(send(`late-${i}`))).statusCode, 202)
  const exp = await app.inject({ method: 'GET', url: `/v1/audit/export?from=${encodeURIComponent(from)}`, headers: headers(KEYS.AUDITOR, {}) })
  const file = join(tmpDir(t), 'period.jsonl')
  writeFileSync(file, exp.rawPayload)
  const { reports, history } = verifyTrails([{ kind: 'bundle', file }], { keys: trusted, history: true })
  t.equal(reports[0].ok, true, JSON.stringify(reports[0].problems))
  t.ok(reports[0].start > 0, 'the bundle does not start at the beginning of the trail')
  t.ok(history.has('late-0'))
  t.notOk(history.has('early-0'))
})

t.test('the trail of a data directory verifies after the hub stops, with the stop recorded', async (t) => {
  const dataDir = tmpDir(t)
  const first = await startHub(t, { dataDir })
  t.equal((await first.app.inject(send('persist-1'))).statusCode, 202)
  const trusted = first.hub.keys.all.map((k) => ({ kid: k.kid, publicKey: k.publicKey }))
  await first.hub.close()
  const { reports } = verifyTrails([{ kind: 'dir', dir: join(dataDir, 'trail', 'TEST-HUB') }], { keys: trusted })
  t.equal(reports[0].ok, true, JSON.stringify(reports[0].problems))
  t.equal(reports[0].covered, reports[0].end, 'the last checkpoint on close covers every record')
})

t.test('failed attempts, the dead letter and its replay are in the trail', async (t) => {
  const { startSink } = await import('../helpers/hub.js')
  const sink = await startSink(t)
  sink.answer = (n) => ({ status: n <= 3 ? 500 : 200 })
  const { hub, app } = await startHub(t, { pushUrl: sink.url })
  t.equal((await app.inject(send('push-1', KEYS.A, { 'egif-receiver': 'TH-C' }))).statusCode, 202)
  await until(async () => (await hub.store.get('TH-A', 'push-1'))?.state === 'dead-lettered', 'the dead letter')
  await hub.worker.replay((await hub.store.get('TH-A', 'push-1'))!, 'operator-1')
  await until(async () => (await hub.store.get('TH-A', 'push-1'))?.state === 'delivered', 'the delivery after replay')
  await until(() => hub.trail.search({ messageId: 'push-1' }).records.some((r) => r.type === 'delivered'), 'the delivered record')
  const records = hub.trail.search({ messageId: 'push-1' }).records
  t.same(records.map((r) => r.type), ['accepted', 'attempt-failed', 'attempt-failed', 'dead-lettered', 'replayed', 'delivered'])
  t.match(records[1], { attempt: 1, code: 'EGIF_ERR_DELIVERY_TRANSIENT', receiver: 'TH-C', documentType: 'test-note' })
  t.match(records[4], { by: 'operator-1' })
})
