import t from 'tap'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { hashApiKey } from '../../src/registry/participants.js'
import { freePort, startChildHub, writeConfig } from '../helpers/child-hub.js'
import { FIXTURE_TYPES, KEYS, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

// A real hub process at the most verbose level, its output read whole: through acceptance,
// refusals and failing deliveries, no body, no API key and no personal field value appears.
t.test('logs at trace level hold no document bodies, keys or personal data', async (t) => {
  const dir = tmpDir(t)
  const sink = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(503, { 'retry-after': '0' }).end()) })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { sink.close() })
  const addr = sink.address()
  const cfg = writeConfig(dir, {
    hub: { id: 'LOG-HUB', host: '127.0.0.1', dataDir: join(dir, 'data'), logLevel: 'trace' },
    delivery: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20, timeoutMs: 1000, concurrency: 2 },
    documentTypes: { builtin: false, folders: [FIXTURE_TYPES + 'test-note', FIXTURE_TYPES + 'test-order'] },
    participants: [
      { id: 'TH-A', name: { en: 'A' }, apiKeys: [hashApiKey(KEYS.A)] },
      { id: 'TH-C', name: { en: 'C' }, delivery: { mode: 'push', adapter: 'http-push', config: { url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/in` } } }
    ],
    routes: [{ from: 'TH-A', to: 'TH-C', types: ['*'] }]
  })
  const hub = await startChildHub(cfg, await freePort())
  t.teardown(() => { hub.proc.kill('SIGKILL') })
  const secret = 'CITIZEN-1103700012345'
  const send = async (id: string, body: string, type = 'application/json'): Promise<number> => (await fetch(`${hub.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.A}`, 'content-type': type, 'egif-message-id': id, 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-document-type': 'test-order' },
    body
  })).status
  t.equal(await send('ok-1', JSON.stringify({ schemaVersion: '1.0', orderId: secret, amount: 1 })), 202)
  t.equal(await send('bad-1', JSON.stringify({ schemaVersion: '1.0', orderId: secret, amount: 'x', citizenId: secret })), 422)
  t.equal(await send('bad-2', `{"citizenId":"${secret}"`), 400)
  // Wait for the delivery to be dead-lettered after its failed attempts.
  const state = async (): Promise<string> => ((await (await fetch(`${hub.url}/v1/messages/ok-1`, { headers: { authorization: `Bearer ${KEYS.A}` } })).json()) as { state: string }).state
  await until(async () => await state() === 'dead-lettered', 'the delivery to be dead-lettered', 30_000)
  hub.proc.kill('SIGTERM')
  await hub.exited
  const out = hub.output()
  t.match(out, /dead-lettered/, 'the log did record the run')
  t.notMatch(out, secret)
  t.notMatch(out, KEYS.A)
  t.notMatch(out, /PRIVATE KEY/)
})
