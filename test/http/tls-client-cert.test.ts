import t from 'tap'
import { request } from 'node:https'
import { readFileSync } from 'node:fs'
import { Hub } from '../../src/hub.js'
import { buildApp } from '../../src/http/app.js'
import { pino } from 'pino'
import { NOTE, testConfig } from '../helpers/hub.js'
import { issue, makeCa } from '../helpers/openssl.js'
import { tmpDir } from '../helpers/tmp.js'

/** Mutual TLS: a GIN agency authenticates with its PKI certificate instead of an API key. */
t.test('a TLS client certificate mapped to a participant authenticates it', async (t) => {
  const dir = tmpDir(t)
  const ca = makeCa(dir, 'gin-ca')
  const server = issue(dir, ca, 'hub', 'server')
  const agencyA = issue(dir, ca, 'agency-a', 'client')
  const unmapped = issue(dir, ca, 'agency-x', 'client')
  const rogueCa = makeCa(dir, 'rogue-ca')
  const rogue = issue(dir, rogueCa, 'rogue', 'client')

  const cfg = testConfig(tmpDir(t), 'http://127.0.0.1:9/', (raw) => {
    raw.hub.tls = { keyFile: server.key, certFile: server.cert, clientCaFiles: [ca.cert] }
    raw.participants[0].clientCertificates = [agencyA.cert]
  })
  const hub = await Hub.create(cfg, { log: pino({ level: 'silent' }) })
  const app = buildApp(hub, { tls: { key: readFileSync(server.key), cert: readFileSync(server.cert), ca: [readFileSync(ca.cert)] } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await hub.close(); await app.close() })
  const port = (app.server.address() as { port: number }).port

  const send = async (client: { key: string, cert: string } | null, id: string): Promise<{ status: number, body: Record<string, unknown> }> =>
    await new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/v1/messages',
        method: 'POST',
        ca: readFileSync(ca.cert),
        ...(client !== null ? { key: readFileSync(client.key), cert: readFileSync(client.cert) } : {}),
        headers: { 'content-type': 'application/xml', 'egif-message-id': id, 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B' }
      }, (res) => {
        let data = ''
        res.on('data', (d: Buffer) => { data += d.toString() })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as Record<string, unknown> }) })
      })
      req.on('error', reject)
      req.end(NOTE())
    })

  const ok = await send(agencyA, 'tls-1')
  t.equal(ok.status, 202, JSON.stringify(ok.body))
  t.equal(ok.body.sender, 'TH-A')
  const notMapped = await send(unmapped, 'tls-2')
  t.equal(notMapped.status, 401)
  t.equal(notMapped.body.code, 'EGIF_ERR_AUTH_INVALID')
  const untrusted = await send(rogue, 'tls-3')
  t.equal(untrusted.status, 401, 'a certificate from another CA')
  t.match(untrusted.body.detail, /not issued by a trusted CA/)
  const none = await send(null, 'tls-4')
  t.equal(none.status, 401)
  t.equal(none.body.code, 'EGIF_ERR_AUTH_MISSING')
})
