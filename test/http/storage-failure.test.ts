import t from 'tap'
import { KEYS, NOTE, headers, startHub } from '../helpers/hub.js'

t.test('storage failing under intake: 503, readiness false, and the trail says the message was not stored', async (t) => {
  const { app, hub } = await startHub(t)
  // The journal closed under a running hub: the next write fails as a full or lost disk would.
  await hub.store.close()
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE('lost'), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-message-id': 'sf-1' }) })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'EGIF_ERR_STORAGE_UNAVAILABLE')
  t.match((await app.inject({ url: '/ready' })).json(), { ready: false })
  const again = await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE('lost'), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-message-id': 'sf-2' }) })
  t.equal(again.statusCode, 503, 'refused at once while storage is away')
  const records = hub.trail.search({ messageId: 'sf-1' }).records
  t.same(records.map((r) => r.type), ['accepted', 'rejected'], 'the accepted record is followed by one saying it did not hold')
  t.match(records[1], { code: 'EGIF_ERR_STORAGE_UNAVAILABLE', detail: /not stored/ })
})
