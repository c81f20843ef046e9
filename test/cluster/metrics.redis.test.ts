import t from 'tap'
import { pino } from 'pino'
import { Hub } from '../../src/hub.js'
import { buildApp } from '../../src/http/app.js'
import { KEYS, NOTE, headers, testConfig, until, withOperator } from '../helpers/hub.js'
import { SHARED_REDIS, redisPrefix } from '../helpers/redis.js'
import { tmpDir } from '../helpers/tmp.js'


t.test('a cluster process\'s metrics: its mode, and the queue\'s pending deliveries read from Redis', async (t) => {
  const prefix = await redisPrefix(t)
  const cfg = testConfig(tmpDir(t), 'http://127.0.0.1:9/unused', withOperator)
  // Deliveries to TH-C wait a minute before their first retry: they stay pending while read.
  const hub = await Hub.create({ ...cfg, redisUrl: SHARED_REDIS, cluster: { ...cfg.cluster, prefix }, delivery: { ...cfg.delivery, initialBackoffMs: 60_000, maxBackoffMs: 60_000 } }, { log: pino({ level: 'silent' }) })
  const app = buildApp(hub)
  await app.ready()
  t.teardown(async () => { await hub.close(); await app.close() })
  const scrape = async (): Promise<string> => (await app.inject({ url: '/v1/admin/metrics', headers: headers(KEYS.OPERATOR, {}) })).body
  t.match(await scrape(), /\negif_queue_pending 0\n/)
  for (const id of ['c-1', 'c-2']) {
    const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': id }) })
    t.equal(res.statusCode, 202)
  }
  // Each first attempt fails at once (nothing listens on port 9) and adds its next one, delayed,
  // before the attempt's own job ends: counted once both have ended.
  let text = ''
  await until(async () => {
    text = await scrape()
    return text.includes('\negif_trail_records_total{type="attempt-failed"} 2\n') && text.includes('\negif_queue_pending 2\n')
  }, 'both first attempts to fail and their retries to wait', 15_000).catch(() => {})
  t.match(text, /\negif_info\{hub="TEST-HUB",mode="cluster",log="[^"]+"\} 1\n/)
  t.match(text, /\negif_queue_pending 2\n/, 'both deliveries pending, counted in Redis')
  t.match(text, /\negif_trail_records_total\{type="accepted"\} 2\n/)
})
