import t from 'tap'
import { KEYS, NOTE, headers, startHub, startSink, until, withOperator } from '../helpers/hub.js'


/** The samples of an exposition, `name{labels}` → value; every line is a comment or a sample. */
function samples (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    out.set(m[1], Number(m[2]))
  }
  return out
}

t.test('operators read the process\'s metrics: what the trail recorded, counted, and gauges read at the time', async (t) => {
  const sink = await startSink(t)
  sink.answer = () => ({ status: 422 })
  const { app, hub } = await startHub(t, { pushUrl: sink.url, patch: withOperator })
  const send = async (id: string, receiver: string): Promise<number> => (await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(id), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': receiver, 'egif-message-id': id }) })).statusCode
  const scrape = async (): Promise<Map<string, number>> => {
    const res = await app.inject({ url: '/v1/admin/metrics', headers: headers(KEYS.OPERATOR, {}) })
    if (res.statusCode !== 200) throw new Error(`metrics answered ${res.statusCode}: ${res.body}`)
    return samples(res.body)
  }

  const before = await scrape()
  t.equal(before.get('egif_ready'), 1)
  t.equal(before.get('egif_info{hub="TEST-HUB",mode="embedded",log="TEST-HUB"}'), 1)
  t.equal(before.get('egif_trail_records_total{type="accepted"}'), undefined, 'nothing accepted yet')

  t.equal(await send('m-1', 'TH-B'), 202)
  t.equal(await send('m-2', 'TH-B'), 202)
  t.equal(await send('m-3', 'TH-NOBODY'), 422)
  t.equal(await send('m-4', 'TH-C'), 202)
  await until(async () => (await hub.store.deadLetters()).length === 1, 'the refused delivery to be dead-lettered')
  // The dead letter is recorded before its delivery job ends.
  await until(async () => (await scrape()).get('egif_queue_pending') === 0, 'its job to end').catch(() => {})

  const res = await app.inject({ url: '/v1/admin/metrics', headers: headers(KEYS.OPERATOR, {}) })
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8', 'the Prometheus text format')
  t.match(res.body, /^# HELP egif_trail_records_total .+\n# TYPE egif_trail_records_total counter\n/)
  const after = samples(res.body)
  t.equal(after.get('egif_trail_records_total{type="accepted"}'), 3)
  t.equal(after.get('egif_trail_records_total{type="in-mailbox"}'), 2)
  t.equal(after.get('egif_trail_records_total{type="rejected"}'), 1)
  t.equal(after.get('egif_refusals_total{code="EGIF_ERR_RECEIVER_UNKNOWN",status="422"}'), 1)
  t.equal(after.get('egif_delivery_failures_total{receiver="TH-C",code="EGIF_ERR_DELIVERY_PERMANENT"}'), 1)
  t.equal(after.get('egif_dead_letters_total{receiver="TH-C"}'), 1)
  t.equal(after.get('egif_trail_size'), hub.trail.size, 'the trail\'s size')
  t.equal(after.get('egif_queue_pending'), 0, 'nothing left to deliver')
  t.ok(after.get('egif_process_resident_memory_bytes')! > 10_000_000, 'its memory')
  t.ok(Math.abs(after.get('egif_process_start_time_seconds')! - Date.now() / 1000) < 600, 'when it started')

  t.equal((await app.inject({ url: '/v1/admin/metrics', headers: headers(KEYS.A, {}) })).statusCode, 403, 'participants are not operators')
  t.equal((await app.inject({ url: '/v1/admin/metrics', headers: headers(KEYS.AUDITOR, {}) })).statusCode, 403, 'nor are auditors')
  t.equal((await app.inject({ url: '/v1/admin/metrics' })).statusCode, 401)
})

t.test('label values are escaped as the text format asks', async (t) => {
  const { HubMetrics } = await import('../../src/metrics.js')
  const m = new HubMetrics()
  m.recorded({ type: 'dead-lettered', receiver: 'TH-"X"\\\n', code: 'C' })
  t.match(m.render([]), 'egif_dead_letters_total{receiver="TH-\\"X\\"\\\\\\n"} 1')
})
