import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newKeyAndSelfSigned } from '../../src/crypto/certificates.js'
import { DocumentSigner } from '../../src/adapters-sdk/signing.js'
import { verifySeal, verifySignedReceipt } from '../../src/crypto/receipt.js'
import { FIXTURE_TYPES, KEYS, NOTE, ORDER, headers, startHub, startSink, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

/** A key and self-signed certificate in files, as an agency would hold them. */
function agencyKey (dir: string, name: string, opts: { days?: number, notBefore?: Date } = {}): { keyFile: string, certFile: string } {
  const { keyPem, certPem } = newKeyAndSelfSigned({ alg: 'RS256', subject: { CN: name, O: 'Test Agency', C: 'TH' }, days: opts.days ?? 30, notBefore: opts.notBefore })
  const keyFile = join(dir, `${name}.key`)
  const certFile = join(dir, `${name}.pem`)
  writeFileSync(keyFile, keyPem)
  writeFileSync(certFile, certPem)
  return { keyFile, certFile }
}

async function signedHub (t: Test, pushUrl?: string) {
  const dir = tmpDir(t)
  const current = agencyKey(dir, 'agency-a')
  const expired = agencyKey(dir, 'agency-a-old', { notBefore: new Date(Date.now() - 40 * 86_400_000), days: 10 })
  const stranger = agencyKey(dir, 'stranger')
  const h = await startHub(t, {
    pushUrl,
    patch: (raw) => {
      raw.participants[0].signingCertificates = [current.certFile, expired.certFile]
      raw.documentTypes.folders = [FIXTURE_TYPES + 'test-order']
      raw.documentTypes.xsd = [{
        id: 'test-note',
        baseDir: FIXTURE_TYPES + 'test-note',
        namespace: 'urn:test:note:1',
        rootElement: 'Note',
        versionLocation: { xpath: 'string(/*/@version)' },
        defaultVersion: '1.0',
        versions: [{ version: '1.0', schema: 'note-1.0.xsd' }],
        signature: { policy: 'required', forms: ['xades-bes'] }
      }]
    }
  })
  return { ...h, current, expired, stranger }
}

const XML = { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C' }
const JSON_H = { 'content-type': 'application/json', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-order' }

t.test('a XAdES-BES signature by a registered certificate is verified; the seal and receipts say so', async (t) => {
  const sink = await startSink(t)
  const { app, hub, current } = await signedHub(t, sink.url)
  const signed = DocumentSigner.fromFiles({ ...current, xmlForm: 'xades-bes', digest: 'sha512' }).sign(Buffer.from(NOTE()), 'application/xml')
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: signed.body, headers: headers(KEYS.A, { ...XML, 'egif-message-id': 's-1' }) })
  t.equal(res.statusCode, 202, res.body)
  await until(async () => (await hub.store.get('TH-A', 's-1'))?.state === 'delivered', 'delivery')
  const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json()
  t.match(verifySignedReceipt(res.json(), jwks), { messageId: 's-1', status: 'accepted' }, 'the accepted receipt verifies with the published keys')
  const status = (await app.inject({ url: '/v1/messages/s-1', headers: headers(KEYS.A, {}) })).json()
  t.equal(status.senderSignature, 'verified')
  t.match(verifySignedReceipt(status.deliveredReceipt, jwks), { status: 'delivered' }, 'so does the delivered receipt')
  const seal = verifySeal(String(sink.requests[0].headers['egif-seal']), jwks, { body: sink.requests[0].body })
  t.match(seal, { messageId: 's-1', sender: 'TH-A', receiver: 'TH-C', senderSignature: 'verified' }, 'the seal covers the delivered bytes and the signature check')
  t.same(sink.requests[0].body, signed.body, 'the signed bytes arrive untouched')
})

t.test('signature refusals', async (t) => {
  const { app, current, expired, stranger } = await signedHub(t)
  const note = Buffer.from(NOTE())
  const send = async (body: Buffer, id: string) => await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { ...XML, 'egif-message-id': id }) })

  const unsigned = await send(note, 'u-1')
  t.equal(unsigned.statusCode, 422)
  t.equal(unsigned.json().code, 'EGIF_ERR_SIGNATURE_REQUIRED', 'the type requires a signature')

  const good = DocumentSigner.fromFiles({ ...current }).sign(note, 'application/xml').body
  const tampered = Buffer.from(good.toString().replace('สวัสดี', 'สวัสดี!'))
  const bad = await send(tampered, 'u-2')
  t.equal(bad.statusCode, 422)
  t.match(bad.json().code, /^EGIF_ERR_SIGNATURE_(DIGEST_MISMATCH|INVALID)$/, 'a changed document fails')

  const byStranger = await send(DocumentSigner.fromFiles({ ...stranger }).sign(note, 'application/xml').body, 'u-3')
  t.equal(byStranger.json().code, 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY', 'a certificate not registered for the sender')

  const byExpired = await send(DocumentSigner.fromFiles({ ...expired }).sign(note, 'application/xml').body, 'u-4')
  t.equal(byExpired.json().code, 'EGIF_ERR_SIGNATURE_CERT_NOT_VALID', 'a registered certificate that has expired')

  const plainDsig = await send(DocumentSigner.fromFiles({ ...current, xmlForm: 'xmldsig' }).sign(note, 'application/xml').body, 'u-5')
  t.equal(plainDsig.json().code, 'EGIF_ERR_SIGNATURE_FORM_NOT_ALLOWED', 'the type accepts XAdES-BES only')

  const ok = await send(good, 'u-6')
  t.equal(ok.statusCode, 202, 'and the good one still passes')
})

t.test('a detached JWS over JSON is verified; over other bytes it fails', async (t) => {
  const { app, current, stranger } = await signedHub(t)
  const body = Buffer.from(ORDER('signed', 5))
  const signer = DocumentSigner.fromFiles({ ...current })
  const jws = signer.sign(body, 'application/json').headers['egif-signature']
  const ok = await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { ...JSON_H, 'egif-message-id': 'j-1', 'egif-signature': jws }) })
  t.equal(ok.statusCode, 202, ok.body)
  const status = (await app.inject({ url: '/v1/messages/j-1', headers: headers(KEYS.A, {}) })).json()
  t.equal(status.senderSignature, 'verified')
  const other = await app.inject({ method: 'POST', url: '/v1/messages', payload: ORDER('signed', 6), headers: headers(KEYS.A, { ...JSON_H, 'egif-message-id': 'j-2', 'egif-signature': jws }) })
  t.equal(other.statusCode, 422)
  t.equal(other.json().code, 'EGIF_ERR_JWS_INVALID')
  const strangerJws = DocumentSigner.fromFiles({ ...stranger }).sign(body, 'application/json').headers['egif-signature']
  const untrusted = await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { ...JSON_H, 'egif-message-id': 'j-3', 'egif-signature': strangerJws }) })
  t.equal(untrusted.json().code, 'EGIF_ERR_JWS_UNTRUSTED_KEY')
  const garbage = await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { ...JSON_H, 'egif-message-id': 'j-4', 'egif-signature': 'not-a-jws' }) })
  t.equal(garbage.json().code, 'EGIF_ERR_JWS_MALFORMED')
  const unsigned = await app.inject({ method: 'POST', url: '/v1/messages', payload: ORDER('plain', 1), headers: headers(KEYS.A, { ...JSON_H, 'egif-message-id': 'j-5' }) })
  t.equal(unsigned.statusCode, 202, 'optional policy: an unsigned JSON document passes')
  t.equal((await app.inject({ url: '/v1/messages/j-5', headers: headers(KEYS.A, {}) })).json().senderSignature, 'absent')
})
