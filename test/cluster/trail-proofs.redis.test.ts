import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { Hub } from '../../src/hub.js'
import { buildApp } from '../../src/http/app.js'
import { KEYS, NOTE, headers, testConfig, until } from '../helpers/hub.js'
import { SHARED_REDIS, redisPrefix } from '../helpers/redis.js'
import { tmpDir } from '../helpers/tmp.js'
import { egif } from '../helpers/egif.js'

/**
 * Each cluster process keeps its own trail, and a receipt names a record of the trail of the
 * process that accepted the message. A sender whose proof request reaches another process (a load
 * balancer) still gets the proof: that process asks the one keeping the trail, through Redis.
 */
t.test('a proof of another process\'s trail, asked of any process of the cluster', async (t) => {
  const prefix = await redisPrefix(t)
  const hubs: Array<{ hub: Hub, app: ReturnType<typeof buildApp>, url: string }> = []
  for (const name of ['one', 'two']) {
    const cfg = testConfig(tmpDir(t), 'http://127.0.0.1:9/unused')
    const hub = await Hub.create({ ...cfg, redisUrl: SHARED_REDIS, cluster: { ...cfg.cluster, prefix }, trail: { ...cfg.trail, log: `PROOF-HUB-${name}` } }, { log: pino({ level: 'silent' }) })
    const app = buildApp(hub)
    t.teardown(async () => { await hub.close(); await app.close() })
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    hubs.push({ hub, app, url })
  }
  const [one, two] = hubs
  const res = await one.app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE('prove me elsewhere'), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-message-id': 'far-1' }) })
  t.equal(res.statusCode, 202)
  t.match(res.json().trail, { log: 'PROOF-HUB-one' })
  // Its delivery to the mailbox adds a record (to the trail of whichever process delivers it): wait for it.
  await until(() => hubs.some(({ hub }) => hub.trail.search({ messageId: 'far-1' }).records.some((r) => r.type === 'in-mailbox')), 'in the mailbox')

  const direct = await two.app.inject({ url: '/v1/trail/proof/far-1', headers: headers(KEYS.A, {}) })
  t.equal(direct.statusCode, 404, 'process two keeps no record of it in its own trail')
  const asked = await two.app.inject({ url: '/v1/trail/proof/far-1?log=PROOF-HUB-one', headers: headers(KEYS.A, {}) })
  t.equal(asked.statusCode, 200, asked.body)
  const mine = await one.app.inject({ url: '/v1/trail/proof/far-1', headers: headers(KEYS.A, {}) })
  t.same(asked.json(), mine.json(), 'process two answers with what process one would')

  t.equal((await two.app.inject({ url: '/v1/trail/proof/far-1?log=PROOF-HUB-one', headers: headers(KEYS.C, {}) })).statusCode, 404, 'a participant that is neither sender nor receiver sees nothing, asked through another process too')
  const cons = await two.app.inject({ url: `/v1/trail/consistency?from=1&log=PROOF-HUB-one`, headers: headers(KEYS.A, {}) })
  t.equal(cons.statusCode, 200, cons.body)
  t.match(cons.json(), { log: 'PROOF-HUB-one', from: 1, to: one.hub.trail.latestCheckpoint()!.body.size }, 'to the latest checkpoint of process one\'s trail')

  // The sender's CLI, pointed at process two, proves the record the receipt names.
  const dir = tmpDir(t)
  writeFileSync(join(dir, 'receipt.json'), res.body)
  writeFileSync(join(dir, 'hub.jwks'), JSON.stringify(one.hub.jwks()))
  const env = { EGIF_HUB_URL: two.url, EGIF_API_KEY: KEYS.A }
  const proven = await egif(['trail', 'prove', 'far-1', '--cert', join(dir, 'hub.jwks'), '--receipt', join(dir, 'receipt.json'), '--save', join(dir, 'cp.json')], { env })
  t.equal(proven.code, 0, proven.out + proven.err)
  t.match(proven.out, /PROVEN: \d records of far-1 are in trail PROOF-HUB-one/)
  t.match(proven.out, /the receipt names the accepted record/)
  await one.hub.trail.append({ type: 'started', detail: 'more records' })
  await one.hub.trail.checkpoint()
  const since = await egif(['trail', 'prove', 'far-1', '--cert', join(dir, 'hub.jwks'), '--receipt', join(dir, 'receipt.json'), '--since', join(dir, 'cp.json')], { env })
  t.equal(since.code, 0, since.out + since.err)
  t.match(since.out, /extends the one saved earlier/)

  const gone = await two.app.inject({ url: '/v1/trail/proof/far-1?log=PROOF-HUB-gone', headers: headers(KEYS.A, {}) })
  t.equal(gone.statusCode, 404, 'a trail no live process keeps')
  t.match(gone.json(), { code: 'EGIF_ERR_NOT_FOUND', detail: /no process of this cluster answered for trail PROOF-HUB-gone/ })
})
