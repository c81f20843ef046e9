import t, { type Test } from 'tap'
import { pino } from 'pino'
import { Hub } from '../../src/hub.js'
import { buildApp } from '../../src/http/app.js'
import { KEYS, NOTE, headers, testConfig, until } from '../helpers/hub.js'
import { SHARED_REDIS, redisPrefix } from '../helpers/redis.js'
import { tmpDir } from '../helpers/tmp.js'

/** Two cluster hubs (in this process, each with a data directory and trail of its own) on one Redis. */
async function twoHubs (t: Test): Promise<Array<{ hub: Hub, app: ReturnType<typeof buildApp> }>> {
  // Each in-process hub gets a name of its own (two hubs of one process would both be hub.id.<pid>).
  const prefix = await redisPrefix(t)
  const hubs: Array<{ hub: Hub, app: ReturnType<typeof buildApp> }> = []
  for (const name of ['one', 'two']) {
    const cfg = testConfig(tmpDir(t), 'http://127.0.0.1:9/unused')
    const hub = await Hub.create({ ...cfg, redisUrl: SHARED_REDIS, cluster: { ...cfg.cluster, prefix }, trail: { ...cfg.trail, log: `TEST-HUB-${name}` } }, { log: pino({ level: 'silent' }) })
    const app = buildApp(hub)
    await app.ready()
    t.teardown(async () => { await hub.close(); await app.close() })
    hubs.push({ hub, app })
  }
  return hubs
}

/**
 * One message sent many times at once to two cluster hubs (a client retrying in a hurry, a load
 * balancer's retry): it is stored once, every answer carries its receipt, and across the two
 * hubs' trails exactly one `accepted` record stands for it: any other `accepted` record a hub
 * wrote before it learned that the other had stored the message is followed by a record saying
 * it was not stored.
 */
t.test('concurrent sends of one message to two cluster hubs: one stored, one accepted record standing', async (t) => {
  const hubs = await twoHubs(t)

  for (let round = 0; round < 5; round++) {
    const id = `race-${round}`
    const send = async (i: number) => await hubs[i % 2].app.inject({
      method: 'POST',
      url: '/v1/messages',
      payload: NOTE(`same ${round}`),
      headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-message-id': id })
    })
    const answers = await Promise.all(Array.from({ length: 8 }, async (_, i) => await send(i)))
    t.same(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 202], `${id}: one 202, the rest 200`)
    const receipt = answers.find((a) => a.statusCode === 202)!.json()
    for (const a of answers) t.same(a.json(), receipt, `${id}: every answer carries the stored message's receipt`)

    // A withdrawing record follows its accepted record, not always next to it (a delivery's
    // record may come between): each withdraws the latest accepted record not yet withdrawn.
    const standing: Array<{ log: string, index: number }> = []
    for (const { hub } of hubs) {
      const open: Array<{ i: number, digest?: string }> = []
      for (const r of hub.trail.search({ messageId: id }).records) {
        if (r.type === 'accepted') open.push(r)
        if (r.type === 'rejected') {
          t.match(r, { status: 200, detail: /not stored/ }, `${id}: a withdrawing record says why`)
          t.equal(open.pop()?.digest, r.digest, `${id}: and withdraws an accepted record of the same bytes`)
        }
      }
      standing.push(...open.map((r) => ({ log: hub.trail.log, index: r.i })))
    }
    t.same(standing, [receipt.trail], `${id}: exactly one accepted record stands, the one the receipt names`)
  }
})

t.test('acks of one message at once at two cluster hubs: one acked event and record, one receipt for every caller', async (t) => {
  const hubs = await twoHubs(t)
  const order = JSON.stringify({ schemaVersion: '1.0', orderId: 'o-ack', amount: 1 })
  const sent = await hubs[0].app.inject({ method: 'POST', url: '/v1/messages', payload: order, headers: headers(KEYS.A, { 'content-type': 'application/json', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-order', 'egif-message-id': 'ack-race' }) })
  t.equal(sent.statusCode, 202)
  await until(async () => (await hubs[1].hub.store.get('TH-A', 'ack-race'))?.state === 'in-mailbox', 'in the mailbox')
  const acks = await Promise.all(Array.from({ length: 8 }, async (_, i) => await hubs[i % 2].app.inject({ method: 'POST', url: '/v1/inbox/ack-race/ack', headers: headers(KEYS.B, {}) })))
  t.same(acks.map((a) => a.statusCode), Array(8).fill(200))
  for (const a of acks.slice(1)) t.same(a.json(), acks[0].json(), 'every caller gets the same delivered receipt')
  const m = (await hubs[0].hub.store.get('TH-A', 'ack-race'))!
  t.same(m.events.map((e) => e.type), ['accepted', 'in-mailbox', 'acked'], 'one acked event')
  t.same(m.deliveredReceipt, acks[0].json(), 'the receipt kept')
  const acked = hubs.flatMap(({ hub }) => hub.trail.search({ messageId: 'ack-race' }).records.filter((r) => r.type === 'acked'))
  t.equal(acked.length, 1, 'one acked record across both trails')
})
