import t from 'tap'
import { createHash, createHmac, webcrypto } from 'node:crypto'
import { generateHubKey, HUB_ALGORITHMS, hubKeyFromPrivateKey, type HubAlgorithm } from '../../src/crypto/hub-key.js'
import { jwkThumbprint, type Jwks } from '../../src/crypto/jwk.js'
import { HubKeyRing } from '../../src/crypto/jwks.js'
import { bodyDigest, sealFor, signReceipt, verifyReceipt, verifySeal, verifySignedReceipt, type SealFields } from '../../src/crypto/receipt.js'
import { HubError } from '../../src/errors.js'
import { b64u, KIND_FOR_ALG, newSigner } from '../helpers/jose-pki.js'

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof HubError ? err.code : `not a HubError: ${String(err)}`
  }
  return undefined
}

/** What an agency gets from GET /.well-known/jwks.json: JSON, not live objects. */
function published (ring: HubKeyRing): Jwks {
  return JSON.parse(JSON.stringify(ring.jwks()))
}

const body = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><TaxInvoice_CrossIndustryInvoice/>')

function receiptFor (n = 1): Record<string, unknown> {
  return {
    messageId: `INV-2024-${n}`,
    status: 'accepted',
    sender: 'rd',
    receiver: 'cgd',
    documentType: 'etda.tax-invoice',
    documentVersion: '2.0',
    receivedAt: '2024-05-01T03:04:05.678Z',
    digest: bodyDigest(body),
    trail: { seq: 42, hash: 'sha256:' + 'ab'.repeat(32) }
  }
}

function sealFields (): SealFields {
  return {
    messageId: 'INV-2024-1',
    sender: 'rd',
    receiver: 'cgd',
    documentType: 'etda.tax-invoice',
    documentVersion: '2.0',
    digest: bodyDigest(body),
    acceptedAt: '2024-05-01T03:04:05.678Z',
    senderSignature: 'verified'
  }
}

t.test('a receipt verifies with the published JWKS, for every hub algorithm', async (t) => {
  for (const alg of HUB_ALGORITHMS) {
    const ring = new HubKeyRing(generateHubKey(alg), [generateHubKey('ES256')])
    const receipt = receiptFor()
    const signature = signReceipt(ring, receipt)
    t.same(verifyReceipt(signature, published(ring)), receipt, alg)
    t.same(verifySignedReceipt({ ...receipt, signature }, published(ring)), receipt)
    const header = JSON.parse(Buffer.from(signature.split('.')[0], 'base64url').toString())
    t.same(header, { typ: 'egif-receipt', alg, kid: ring.current.kid })
  }
})

t.test('the signature member is never part of what is signed', async (t) => {
  const ring = new HubKeyRing(generateHubKey('EdDSA'))
  const a = signReceipt(ring, { ...receiptFor(), signature: 'old' })
  t.notOk('signature' in verifyReceipt(a, published(ring)))
})

t.test('a receipt with one byte changed fails', async (t) => {
  const ring = new HubKeyRing(generateHubKey('ES256'))
  const receipt = receiptFor()
  const signature = signReceipt(ring, receipt)
  const [h, p, s] = signature.split('.')
  const json = Buffer.from(p, 'base64url')
  const at = json.indexOf('INV-2024-1') + 9
  json[at] = '2'.charCodeAt(0) // INV-2024-1 → INV-2024-2
  t.equal(code(() => verifyReceipt(`${h}.${json.toString('base64url')}.${s}`, published(ring))), 'EGIF_ERR_JWS_INVALID', 'payload byte')
  const sig = Buffer.from(s, 'base64url')
  sig[sig.length - 1] ^= 0x01
  t.equal(code(() => verifyReceipt(`${h}.${p}.${sig.toString('base64url')}`, published(ring))), 'EGIF_ERR_JWS_INVALID', 'signature byte')
  t.equal(code(() => verifySignedReceipt({ ...receipt, receiver: 'xyz', signature }, published(ring))), 'EGIF_ERR_JWS_INVALID', 'an edited receipt member')
  t.equal(code(() => verifySignedReceipt({ ...receipt, extra: 1, signature }, published(ring))), 'EGIF_ERR_JWS_INVALID', 'an added receipt member')
  t.equal(code(() => verifySignedReceipt(receipt, published(ring))), 'EGIF_ERR_JWS_MALFORMED', 'no signature')
})

t.test('the JWKS holds current and previous keys, public members only', async (t) => {
  const withCert = newSigner('p256', { subject: { CN: 'egif hub', O: 'Hub Operator', C: 'TH' } })
  const current = hubKeyFromPrivateKey(withCert.privateKey, { certificate: withCert.cert })
  const previous = [generateHubKey('RS256'), generateHubKey('EdDSA')]
  const ring = new HubKeyRing(current, previous)
  const jwks = published(ring)
  t.same(jwks.keys.map((k) => k.kid), [current.kid, previous[0].kid, previous[1].kid], 'current first, then previous')
  t.same(jwks.keys.map((k) => k.alg), ['ES256', 'RS256', 'EdDSA'])
  const PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
  for (const jwk of jwks.keys) {
    for (const m of PRIVATE) t.notOk(m in jwk, `${jwk.kty} has no ${m}`)
    t.equal(jwk.use, 'sig')
    t.same(Object.keys(jwk).filter((m) => !['kty', 'n', 'e', 'crv', 'x', 'y', 'kid', 'alg', 'use', 'x5c', 'x5t#S256'].includes(m)), [], 'no unexpected members')
  }
  t.same(jwks.keys[0].x5c, [withCert.cert.raw.toString('base64')], 'x5c with the certificate')
  t.equal(jwks.keys[0]['x5t#S256'], createHash('sha256').update(withCert.cert.raw).digest('base64url'))
  t.notOk('x5c' in jwks.keys[1], 'no x5c without a certificate')
  t.equal(jwks.keys[0].kid, jwkThumbprint(withCert.privateKey))

  const copy = ring.jwks()
  copy.keys.pop()
  t.equal(ring.jwks().keys.length, 3, 'jwks() hands out a copy')
})

t.test('rotation: receipts signed with a previous key verify until it leaves the JWKS', async (t) => {
  const a = generateHubKey('ES256')
  const b = generateHubKey('ES256')
  const c = generateHubKey('ES256')
  const old = signReceipt(new HubKeyRing(a), receiptFor(1))
  const rotated = new HubKeyRing(b, [a])
  t.same(verifyReceipt(old, published(rotated)), receiptFor(1), 'old receipt, key now previous')
  t.same(rotated.verifyCompact(old).payload, receiptFor(1), 'the ring itself verifies with previous keys')
  const fresh = signReceipt(rotated, receiptFor(2))
  t.equal(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url').toString()).kid, b.kid, 'new receipts use the new key')
  const later = new HubKeyRing(c, [b])
  t.equal(code(() => verifyReceipt(old, published(later))), 'EGIF_ERR_JWS_UNTRUSTED_KEY', 'key retired')
  t.same(verifyReceipt(fresh, published(later)), receiptFor(2))
  t.equal(code(() => new HubKeyRing(a, [a])), 'EGIF_ERR_KEY_DUPLICATE')
})

const WEBCRYPTO: Partial<Record<HubAlgorithm, { import: object, verify: object }>> = {
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  PS256: { import: { name: 'RSA-PSS', hash: 'SHA-256' }, verify: { name: 'RSA-PSS', saltLength: 32 } },
  EdDSA: { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } }
}

t.test('receipts verify with another implementation (WebCrypto, from the published JWK)', async (t) => {
  for (const [alg, algo] of Object.entries(WEBCRYPTO) as Array<[HubAlgorithm, { import: object, verify: object }]>) {
    const ring = new HubKeyRing(hubKeyFromPrivateKey(newSigner(KIND_FOR_ALG[alg]).privateKey, { alg }))
    const jws = signReceipt(ring, receiptFor())
    const jwk = published(ring).keys[0]
    const { kid: _kid, alg: _alg, use: _use, ...keyMembers } = jwk
    const key = await webcrypto.subtle.importKey('jwk', keyMembers as webcrypto.JsonWebKey, algo.import as webcrypto.RsaHashedImportParams, false, ['verify'])
    const [h, p, s] = jws.split('.')
    const ok = await webcrypto.subtle.verify(algo.verify as webcrypto.EcdsaParams, key, Buffer.from(s, 'base64url'), Buffer.from(`${h}.${p}`))
    t.ok(ok, `${alg}: WebCrypto accepts the receipt`)
    const bad = await webcrypto.subtle.verify(algo.verify as webcrypto.EcdsaParams, key, Buffer.from(s, 'base64url'), Buffer.from(`${h}.${p}x`))
    t.notOk(bad, `${alg}: and refuses other bytes`)
  }
})

t.test('a seal verifies, binds the body, and carries exactly the seal fields', async (t) => {
  const ring = new HubKeyRing(generateHubKey('ES256'))
  const seal = sealFor(ring, { ...sealFields(), extra: 'not sealed' } as SealFields)
  t.same(verifySeal(seal, published(ring), { body }), sealFields())
  t.same(Object.keys(verifySeal(seal, published(ring))), Object.keys(sealFields()))
  t.equal(code(() => verifySeal(seal, published(ring), { body: Buffer.concat([body, Buffer.from(' ')]) })), 'EGIF_ERR_JWS_INVALID', 'other bytes')
  for (const senderSignature of ['verified', 'absent', 'not-required'] as const) {
    t.equal(verifySeal(sealFor(ring, { ...sealFields(), senderSignature }), published(ring)).senderSignature, senderSignature)
  }
})

t.test('a seal is not a receipt and a receipt is not a seal', async (t) => {
  const ring = new HubKeyRing(generateHubKey('EdDSA'))
  const seal = sealFor(ring, sealFields())
  t.equal(code(() => verifyReceipt(seal, published(ring))), 'EGIF_ERR_JWS_TYPE')
  const receipt = signReceipt(ring, { ...sealFields() })
  t.equal(code(() => verifySeal(receipt, published(ring))), 'EGIF_ERR_JWS_TYPE')
  t.equal(code(() => verifyReceipt(ring.signCompact(receiptFor()), published(ring))), 'EGIF_ERR_JWS_TYPE', 'no typ at all')
})

t.test('sealFor refuses incomplete or ill-formed fields', async (t) => {
  const ring = new HubKeyRing(generateHubKey('ES256'))
  t.throws(() => sealFor(ring, { ...sealFields(), digest: 'sha1:abc' }), TypeError)
  t.throws(() => sealFor(ring, { ...sealFields(), senderSignature: 'maybe' as never }), TypeError)
  const { receiver: _r, ...missing } = sealFields()
  t.throws(() => sealFor(ring, missing as SealFields), TypeError)
})

t.test('a receipt "signed" with HS256 keyed with the hub\'s public key is refused', async (t) => {
  const ring = new HubKeyRing(generateHubKey('RS256'))
  const publicPem = ring.current.publicKey.export({ type: 'spki', format: 'pem' })
  const h = b64u({ alg: 'HS256', typ: 'egif-receipt', kid: ring.current.kid })
  const p = b64u(receiptFor())
  const forged = `${h}.${p}.${createHmac('sha256', publicPem).update(`${h}.${p}`).digest('base64url')}`
  t.equal(code(() => verifyReceipt(forged, published(ring))), 'EGIF_ERR_JWS_ALGORITHM')
  const none = `${b64u({ alg: 'none', typ: 'egif-receipt' })}.${p}.`
  t.equal(code(() => verifyReceipt(none, published(ring))), 'EGIF_ERR_JWS_ALGORITHM', 'alg none with an empty signature')
  const noneSigned = `${b64u({ alg: 'none', typ: 'egif-receipt' })}.${p}.${b64u('x')}`
  t.equal(code(() => verifyReceipt(noneSigned, published(ring))), 'EGIF_ERR_JWS_ALGORITHM', 'alg none')
})
