import t from 'tap'
import { fileURLToPath } from 'node:url'
import { tapConformance, standardMessage } from '../../conformance/adapters/index.js'
import { httpStandIn } from '../../conformance/adapters/stand-ins/http.js'
import { PermanentDeliveryError, TransientDeliveryError } from '../../src/adapters-sdk/index.js'
import restJson from '../../adapters/rest-json/index.js'
import subject from '../../adapters/rest-json/conformance.js'
import { pino } from 'pino'

const FIXTURES = fileURLToPath(new URL('../../adapters/rest-json/fixtures/', import.meta.url))

t.test('rest-json passes the adapter conformance suite (fixtures included)', async (t) => {
  await tapConformance(t, subject, FIXTURES)
})

const ctx = (config: any) => ({ config: { method: 'POST', headers: {}, duplicateStatuses: [409], routingHeaders: true, ...config }, routing: ORDER.routing, log: pino({ level: 'silent' }), signal: AbortSignal.timeout(5000), services: { putInMailbox: async () => {} } })
const ORDER = standardMessage({ body: '{"schemaVersion":"1.0","orderId":"o-7","amount":12}', routing: { messageId: 'm/7' } })

t.test('bearer and API key credentials come from the environment, never from the file', async (t) => {
  const s = await httpStandIn(() => ({ status: 200 }))
  t.teardown(s.close)
  process.env.EGIF_TEST_BB_TOKEN = 'tok-123'
  process.env.EGIF_TEST_GDX_KEY = 'key-456'
  t.teardown(() => { delete process.env.EGIF_TEST_BB_TOKEN; delete process.env.EGIF_TEST_GDX_KEY })
  await restJson.deliver(ORDER, ctx({ url: `${s.url}/items/{messageId}`, auth: { type: 'bearer', tokenEnv: 'EGIF_TEST_BB_TOKEN' } }))
  await restJson.deliver(ORDER, ctx({ url: `${s.url}/items`, auth: { type: 'api-key', keyEnv: 'EGIF_TEST_GDX_KEY', header: 'X-GDX-Key' } }))
  t.equal(s.requests[0].headers.authorization, 'Bearer tok-123')
  t.equal(s.requests[0].url, '/items/m%2F7', 'the message id is URL-encoded into the path')
  t.equal(s.requests[1].headers['x-gdx-key'], 'key-456')
  t.equal(s.requests[1].headers.authorization, undefined)
  t.equal(s.requests[0].headers['egif-message-id'], 'm/7', 'routing headers by default')
  t.equal(s.requests[0].headers['idempotency-key'], 'TH-SENDER:m/7')
  t.equal(s.requests[0].body.toString(), ORDER.body.toString(), 'without a mapping, the exact bytes')

  const missing = restJson.deliver(ORDER, ctx({ url: `${s.url}/items`, auth: { type: 'bearer', tokenEnv: 'EGIF_TEST_UNSET_TOKEN' } }))
  await t.rejects(missing, { code: 'EGIF_ERR_ADAPTER_CONFIG', message: /EGIF_TEST_UNSET_TOKEN/ })
  await missing.catch((err: unknown) => { t.ok(err instanceof TransientDeliveryError, 'kept for retry until the operator sets it') })
})

t.test('a configured header of the same name as one the adapter sets, in any case, is replaced, not sent beside it', async (t) => {
  const s = await httpStandIn(() => ({ status: 200 }))
  t.teardown(s.close)
  t.teardown(async () => { await restJson.close?.() })
  await restJson.deliver(ORDER, ctx({ url: `${s.url}/items`, headers: { 'Content-Type': 'text/plain', 'X-Agency': 'moi' } }))
  t.equal(s.requests[0].headers['content-type'], ORDER.contentType, 'the document\'s content type, alone')
  t.equal(s.requests[0].headers['x-agency'], 'moi', 'other configured headers are sent')
})

t.test('a document that does not fit the mapping is dead-lettered with the field named', async (t) => {
  const s = await httpStandIn(() => ({ status: 200 }))
  t.teardown(s.close)
  const p = restJson.deliver(ORDER, ctx({ url: `${s.url}/x`, mapping: { ref: 'document.requestId' } }))
  await t.rejects(p, { code: 'EGIF_ERR_ADAPTER_MAPPING', message: /document\.requestId/ })
  await p.catch((err: unknown) => { t.ok(err instanceof PermanentDeliveryError) })
  const xml = standardMessage({ body: '<a/>', contentType: 'application/xml' })
  await t.rejects(restJson.deliver(xml, ctx({ url: `${s.url}/x`, mapping: { ref: 'routing.messageId' } })), { code: 'EGIF_ERR_ADAPTER_MAPPING', message: /needs a JSON document/ })
  t.equal(s.requests.length, 0, 'nothing was sent')
})

t.test('the config schema refuses a token written into the file', async (t) => {
  const { AdapterRegistry } = await import('../../src/adapters-sdk/registry.js')
  const reg = new AdapterRegistry([restJson])
  t.throws(() => reg.resolve('rest-json', { url: 'https://x.go.th', auth: { type: 'bearer', token: 'secret' } }, 'hub.yaml'), { code: 'EGIF_ERR_ADAPTER_CONFIG' })
  t.match(reg.resolve('rest-json', { url: 'https://x.go.th' }, 'hub.yaml').config, { method: 'POST', duplicateStatuses: [409], routingHeaders: true, headers: {} })
})
