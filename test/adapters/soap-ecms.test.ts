import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { standardMessage, tapConformance } from '../../conformance/adapters/index.js'
import { ecmsStandIn } from '../../conformance/adapters/stand-ins/ecms.js'
import { httpStandIn } from '../../conformance/adapters/stand-ins/http.js'
import soapEcms, { NOTIFICATION_TYPE_FOLDER } from '../../adapters/soap-ecms/index.js'
import subject from '../../adapters/soap-ecms/conformance.js'
import { envelope, WSA_NS, WSA_NS_MISSPELLED } from '../../adapters/soap-ecms/soap.js'
import { TransientDeliveryError } from '../../src/adapters-sdk/index.js'
import { FIXTURE_TYPES, KEYS, headers, startHub, until } from '../helpers/hub.js'

const FIXTURES = fileURLToPath(new URL('../../adapters/soap-ecms/fixtures/', import.meta.url))
const LETTER = readFileSync(new URL('../../examples/gin-demo/messages/letter-mfa-to-ocsc.xml', import.meta.url))

t.test('soap-ecms passes the adapter conformance suite (fixtures included)', async (t) => {
  await tapConformance(t, subject, FIXTURES)
})

const ctx = (url: string, more: Record<string, unknown> = {}) => ({ config: { url, addressing: 'standard', headers: {}, pollMs: 20, ...more } as any, routing: standardMessage({ body: LETTER }).routing, log: pino({ level: 'silent' }), signal: AbortSignal.timeout(5000), services: { putInMailbox: async () => {} } })

t.test('WS-Addressing: answers in the misspelled namespace are accepted; the adapter sends it when told to', async (t) => {
  const s = await ecmsStandIn()
  t.teardown(s.close)
  s.misspelled = true
  await soapEcms.deliver(standardMessage({ body: LETTER, contentType: 'application/xml', routing: { messageId: 'L-1', documentType: 'gov-letter' } }), ctx(s.url))
  t.equal(s.calls[0].wsaNamespace, WSA_NS)
  await soapEcms.deliver(standardMessage({ body: LETTER, contentType: 'application/xml', routing: { messageId: 'L-2', documentType: 'gov-letter' } }), ctx(s.url, { addressing: 'misspelled' }))
  t.equal(s.calls[1].wsaNamespace, WSA_NS_MISSPELLED)
  t.equal(Buffer.from(s.calls[0].fields.Document, 'base64').toString(), LETTER.toString(), 'the letter travels byte for byte (base64)')
  t.match(s.calls[0].fields, { MessageID: 'L-1', Sender: 'TH-SENDER', Receiver: 'TH-RECEIVER', DocumentType: 'gov-letter', Digest: /^sha256:/, Seal: /\./ })
  t.equal(s.calls[0].wsaMessageId, 'urn:egif:SendDocument:TH-SENDER:L-1', 'deterministic, so a retry carries the same MessageID')
})

t.test('answers outside the protocol are refused by the strict parser and retried', async (t) => {
  const doctype = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x>&e;</x></soap:Body></soap:Envelope>`
  const answers = [doctype, '<html>proxy error</html>', envelope({ messageId: 'urn:x', to: 'x', action: 'x', relatesTo: 'urn:someone-else' }, '<ecms:SendDocumentResponse xmlns:ecms="urn:th:go:egif:ecms:1"><ecms:ProcessID>1</ecms:ProcessID><ecms:ProcessTime>2026-11-24T00:00:00Z</ecms:ProcessTime></ecms:SendDocumentResponse>'),
    envelope({ messageId: 'urn:x', to: 'x', action: 'x' }, '<ecms:SendDocumentResponse xmlns:ecms="urn:th:go:egif:ecms:1"/>')]
  let i = 0
  const s = await httpStandIn(() => ({ status: 200, headers: { 'content-type': 'text/xml' }, body: answers[i++] }))
  t.teardown(s.close)
  const msg = standardMessage({ body: LETTER, contentType: 'application/xml' })
  for (const why of [/EGIF_ERR_XML_DOCTYPE|DOCTYPE/, /without a SOAP envelope/, /relates to urn:someone-else/, /no ProcessID and ProcessTime/]) {
    const p = soapEcms.deliver(msg, ctx(s.url))
    await t.rejects(p, { message: why, code: 'EGIF_ERR_ADAPTER_PROTOCOL' })
    await p.catch((err: unknown) => { t.ok(err instanceof TransientDeliveryError) })
  }
})

t.test('through a hub: a letter goes out as SendDocumentRequest; the system\'s outbox comes in (letters, notifications); a refused item gets an InvalidNotification', async (t) => {
  const ecms = await ecmsStandIn()
  t.teardown(ecms.close)
  const { app } = await startHub(t, {
    patch: (raw) => {
      raw.documentTypes = { builtin: true, folders: [FIXTURE_TYPES + 'test-note', FIXTURE_TYPES + 'test-order', fileURLToPath(NOTIFICATION_TYPE_FOLDER)] }
      raw.participants[2].delivery = { mode: 'push', adapter: 'soap-ecms', config: { url: ecms.url } }
      raw.participants[2].inbound = [{ adapter: 'soap-ecms', config: { url: ecms.url, pollMs: 20 } }]
      raw.routes.push({ from: '*', to: '*', types: ['gov-letter', 'ecms-notification'] })
    }
  })
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: LETTER, headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'MFA-0001' }) })
  t.equal(res.statusCode, 202, res.body)
  await until(async () => (await app.inject({ url: '/v1/messages/MFA-0001', headers: headers(KEYS.A, {}) })).json().state === 'delivered', 'delivered over SOAP')
  const sent = ecms.calls.find((c) => c.op === 'SendDocumentRequest')!
  t.equal(Buffer.from(sent.fields.Document, 'base64').toString(), LETTER.toString())

  // The receiving clerk registers the letter: the system's outbox holds an Accept for TH-A, and a broken letter.
  ecms.outbox.push({ id: 'N-1', kind: 'Accept', messageId: 'OCSC-ACK-0001', receiver: 'TH-A', letterMessageId: 'MFA-0001', receiverLetterId: 'นร 1008/2001', notifiedAt: '2026-11-25T02:00:00Z' })
  ecms.outbox.push({ id: 'L-9', kind: 'Letter', messageId: 'OCSC-BAD-1', receiver: 'TH-A', contentType: 'application/xml', document: Buffer.from('<GovernmentDocument xmlns="urn:th:go:egif:gov-letter:1" version="1.0"/>').toString('base64') })
  await until(() => ecms.outbox.length === 0, 'the outbox is emptied')
  await until(async () => (await app.inject({ url: '/v1/inbox', headers: headers(KEYS.B, {}) })).statusCode === 200, 'inbox')
  const notice = await app.inject({ url: '/v1/messages/OCSC-ACK-0001?sender=TH-C', headers: headers(KEYS.A, {}) })
  t.equal(notice.statusCode, 200, 'the notification went through the hub to the letter\'s sender')
  t.match(notice.json(), { documentType: 'ecms-notification' })
  const invalid = ecms.calls.find((c) => c.op === 'InvalidNotification')
  t.match(invalid?.fields, { ID: 'L-9', MessageID: 'OCSC-BAD-1', Reason: /^EGIF_ERR_SCHEMA_INVALID/ }, 'the refused letter is reported with the hub\'s code')
  const deletes = ecms.calls.filter((c) => c.op === 'DeleteDocumentRequest').map((c) => c.fields)
  t.match(deletes, [{ ID: 'N-1', Status: 'Accepted', ProcessID: 'TH-C/OCSC-ACK-0001', ProcessTime: String }, { ID: 'L-9', Status: 'Refused' }])

  // A notification sent through the hub to TH-C becomes its notifier operation.
  const accept = `<?xml version="1.0" encoding="UTF-8"?>\n<Notification xmlns="urn:th:go:egif:ecms-notification:1" version="1.0">\n  <Kind>Reject</Kind>\n  <LetterMessageID>C-77</LetterMessageID>\n  <LetterSender>TH-C</LetterSender>\n  <Reason>ส่งผิดหน่วยงาน</Reason>\n  <NotifiedAt>2026-11-25T03:00:00Z</NotifiedAt>\n</Notification>\n`
  const r2 = await app.inject({ method: 'POST', url: '/v1/messages', payload: accept, headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'A-REJ-1' }) })
  t.equal(r2.statusCode, 202, r2.body)
  await until(() => ecms.calls.some((c) => c.op === 'RejectNotification'), 'the notifier')
  t.match(ecms.calls.find((c) => c.op === 'RejectNotification')!.fields, { MessageID: 'A-REJ-1', LetterMessageID: 'C-77', Reason: 'ส่งผิดหน่วยงาน' })
})
