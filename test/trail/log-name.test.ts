import t from 'tap'
import { KEYS, NOTE, headers, startHub, testConfig } from '../helpers/hub.js'
import { resolveConfig } from '../../src/config/load.js'
import { tmpDir } from '../helpers/tmp.js'

t.test('each process names its own log: configured, from EGIF_TRAIL_LOG, or the hub id', async (t) => {
  const dir = tmpDir(t)
  t.equal(testConfig(dir, 'http://127.0.0.1:9/').trail.log, undefined)
  const raw = { hub: { id: 'H', dataDir: dir }, participants: [{ id: 'TH-A', name: { en: 'A' }, apiKeys: [] }] }
  t.equal(resolveConfig(raw, `${dir}/c.yaml`, { EGIF_TRAIL_LOG: 'H.node-2' }).trail.log, 'H.node-2')
  t.throws(() => resolveConfig({ ...raw, trail: { log: '../escape' } }, `${dir}/c.yaml`, {}), 'a log name is a plain path component')

  const { hub, app } = await startHub(t, { patch: (r) => { r.trail = { log: 'TEST-HUB.node-1', checkpointEveryRecords: 2 } } })
  const res = await app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-message-id': 'n-1', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-note' }),
    payload: NOTE()
  })
  t.equal(res.json().trail.log, 'TEST-HUB.node-1')
  t.equal(hub.trail.log, 'TEST-HUB.node-1')
  t.ok(hub.trail.checkpoints().length >= 1, 'checkpointEveryRecords from the configuration')
})
