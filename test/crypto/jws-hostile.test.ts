// Hostile EGIF-Signature values: each is refused with its own code, never accepted.
import t, { type Test } from 'tap'
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { hubKeyFromPrivateKey } from '../../src/crypto/hub-key.js'
import { signDetached, verifyDetached } from '../../src/crypto/jws.js'
import { HubError } from '../../src/errors.js'
import { b64u, certify, daysFromNow, handmadeJws, joseSigner, newCa, newSigner, registered } from '../helpers/jose-pki.js'

const body = Buffer.from('{"invoiceNumber":"INV-0001","total":"1070.00"}')
const at = new Date()
const sender = newSigner('p256')
const trust = registered(sender.cert)
const senderKey = hubKeyFromPrivateKey(sender.privateKey, { certificate: sender.cert })
const unencoded = { b64: false, crit: ['b64'] }

function refusal (t: Test, jws: string, expected: string, opts: { body?: Uint8Array, trust?: typeof trust, message?: RegExp } = {}): void {
  try {
    verifyDetached(jws, opts.body ?? body, { trust: opts.trust ?? trust, at })
    t.fail('accepted a hostile JWS')
  } catch (err) {
    t.ok(err instanceof HubError, 'a HubError')
    t.equal((err as HubError).code, expected)
    t.equal((err as HubError).status, 422)
    if (opts.message !== undefined) t.match((err as Error).message, opts.message)
  }
}

t.test('alg none is refused', async (t) => {
  refusal(t, `${b64u({ alg: 'none' })}..`, 'EGIF_ERR_JWS_ALGORITHM', { message: /none/ })
  refusal(t, `${b64u({ alg: 'none' })}..${b64u('x')}`, 'EGIF_ERR_JWS_ALGORITHM', { message: /none/ })
  refusal(t, `${b64u({ alg: 'NONE', ...unencoded })}..${b64u('x')}`, 'EGIF_ERR_JWS_ALGORITHM')
})

t.test('HS256 keyed with the sender\'s public key (algorithm confusion) is refused', async (t) => {
  for (const secret of [sender.cert.publicKey.export({ type: 'spki', format: 'pem' }), sender.cert.toString(), sender.cert.raw]) {
    const jws = handmadeJws({ alg: 'HS256' }, body, (input) => createHmac('sha256', secret).update(input).digest())
    refusal(t, jws, 'EGIF_ERR_JWS_ALGORITHM', { message: /HMAC/ })
  }
})

t.test('algorithms outside the allow-list are refused', async (t) => {
  const es256k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey
  refusal(t, handmadeJws({ alg: 'ES256K', ...unencoded }, body, (i) => sign('sha256', i, { key: es256k, dsaEncoding: 'ieee-p1363' })), 'EGIF_ERR_JWS_ALGORITHM')
  for (const alg of ['RS1', 'HS512', 'rs256', 'RSA-OAEP', 'Ed25519', '']) {
    refusal(t, handmadeJws({ alg, ...unencoded }, body, () => Buffer.from('sig')), 'EGIF_ERR_JWS_ALGORITHM')
  }
  refusal(t, handmadeJws({ alg: 256 }, body, () => Buffer.from('sig')), 'EGIF_ERR_JWS_MALFORMED', { message: /alg/ })
})

t.test('crit with a member the verifier does not understand is refused', async (t) => {
  const signer = joseSigner('ES256', sender.privateKey)
  refusal(t, handmadeJws({ alg: 'ES256', crit: ['exp'], exp: 1 }, body, signer), 'EGIF_ERR_JWS_CRIT')
  refusal(t, handmadeJws({ alg: 'ES256', b64: false, crit: ['b64', 'urn:example:policy'], 'urn:example:policy': 'x' }, body, signer), 'EGIF_ERR_JWS_CRIT')
})

t.test('crit that is not a list of present, non-registered names is malformed', async (t) => {
  const signer = joseSigner('ES256', sender.privateKey)
  refusal(t, handmadeJws({ alg: 'ES256', crit: [] }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', crit: 'b64', b64: false }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', crit: ['alg'] }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', crit: ['b64', 'b64'], b64: false }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', crit: ['b64'] }, body, signer), 'EGIF_ERR_JWS_MALFORMED', { message: /does not carry/ })
})

t.test('b64:false without crit (RFC 7797 §6) is malformed', async (t) => {
  refusal(t, handmadeJws({ alg: 'ES256', b64: false }, body, joseSigner('ES256', sender.privateKey)), 'EGIF_ERR_JWS_MALFORMED', { message: /crit/ })
  refusal(t, handmadeJws({ alg: 'ES256', b64: 'false', crit: ['b64'] }, body, joseSigner('ES256', sender.privateKey)), 'EGIF_ERR_JWS_MALFORMED')
})

t.test('an x5c certificate that is not registered is refused, even though it verifies', async (t) => {
  // Same subject as the registered certificate: only the registered bytes count, not the name.
  const intruder = newSigner('p256', { subject: { CN: 'Test Agency signer', O: 'Test Agency', C: 'TH' } })
  t.equal(intruder.cert.subject, sender.cert.subject)
  const key = hubKeyFromPrivateKey(intruder.privateKey, { certificate: intruder.cert })
  refusal(t, signDetached(key, body), 'EGIF_ERR_JWS_UNTRUSTED_KEY')
})

t.test('an x5c chain to an unbound CA is refused', async (t) => {
  const rogue = newCa('p256')
  const issued = rogue.issue({ CN: 'Test Agency signer', O: 'Test Agency', C: 'TH' }, 'p256')
  const key = hubKeyFromPrivateKey(issued.privateKey, { certificate: issued.cert })
  const ca = newCa('p256')
  refusal(t, signDetached(key, body), 'EGIF_ERR_JWS_UNTRUSTED_KEY', { trust: { certificates: [], authorities: [{ ca: ca.cert, subject: { O: 'Test Agency' } }] } })
})

t.test('an expired registered certificate is refused (with and without x5c)', async (t) => {
  const expired = newSigner('p256', { notBefore: daysFromNow(-400), notAfter: daysFromNow(-35) })
  const key = hubKeyFromPrivateKey(expired.privateKey, { certificate: expired.cert })
  refusal(t, signDetached(key, body), 'EGIF_ERR_JWS_CERT_NOT_VALID', { trust: registered(expired.cert) })
  refusal(t, signDetached(key, body, { x5c: false }), 'EGIF_ERR_JWS_CERT_NOT_VALID', { trust: registered(expired.cert) })
  const future = newSigner('p256', { notBefore: daysFromNow(10), notAfter: daysFromNow(400) })
  const later = hubKeyFromPrivateKey(future.privateKey, { certificate: future.cert })
  refusal(t, signDetached(later, body, { x5c: false }), 'EGIF_ERR_JWS_CERT_NOT_VALID', { trust: registered(future.cert) })
})

t.test('a JWS over different bytes does not verify', async (t) => {
  const jws = signDetached(senderKey, body)
  const changed = Buffer.from(body)
  changed[changed.length - 3] ^= 1
  refusal(t, jws, 'EGIF_ERR_JWS_INVALID', { body: changed })
  refusal(t, jws, 'EGIF_ERR_JWS_INVALID', { body: Buffer.concat([body, Buffer.from('\n')]) })
  refusal(t, jws, 'EGIF_ERR_JWS_INVALID', { body: new Uint8Array(0) })
  // The same signature relabelled as the base64url form covers other bytes.
  const [, , s] = jws.split('.')
  refusal(t, `${b64u({ alg: 'ES256', kid: senderKey.kid })}..${s}`, 'EGIF_ERR_JWS_INVALID')
})

t.test('truncated and garbage compact strings are malformed', async (t) => {
  const jws = signDetached(senderKey, body)
  const [h, , s] = jws.split('.')
  const cases = [
    '', 'garbage', '..', `${h}.`, `${h}..`, `${h}.${s}`, `${h}...${s}`, `.${s}`,
    jws.slice(0, h.length - 5) + '..' + s, // the header cut short: not JSON any more
    `${h}!..${s}`, // not base64url
    `${h}..${s}=`, // padding is not base64url
    `${b64u('not json')}..${s}`,
    `${b64u('[1,2]')}..${s}`,
    `${h}.${b64u(body)}.${s}`, // an attached payload is not a detached JWS
    'a'.repeat(40_000) + '..' + s
  ]
  for (const c of cases) refusal(t, c, 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, 42 as unknown as string, 'EGIF_ERR_JWS_MALFORMED')
})

t.test('a truncated signature does not verify and says why', async (t) => {
  const [h, , s] = signDetached(senderKey, body).split('.')
  const short = Buffer.from(s, 'base64url').subarray(0, 60).toString('base64url')
  refusal(t, `${h}..${short}`, 'EGIF_ERR_JWS_INVALID', { message: /64 bytes/ })
})

t.test('a non-canonical base64url signature is malformed', async (t) => {
  const jws = signDetached(senderKey, body)
  const last = jws.at(-1) ?? ''
  // 64 bytes end in 2 significant bits of the last character: changing the unused ones must not be accepted.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const sibling = alphabet[alphabet.indexOf(last) ^ 1]
  refusal(t, jws.slice(0, -1) + sibling, 'EGIF_ERR_JWS_MALFORMED')
})

t.test('a DER-encoded ECDSA signature where JOSE expects R||S is refused', async (t) => {
  const jws = handmadeJws({ alg: 'ES256', ...unencoded }, body, (input) => sign('sha256', input, sender.privateKey))
  refusal(t, jws, 'EGIF_ERR_JWS_INVALID', { message: /DER/ })
})

t.test('a key embedded in the header (jwk) is never used', async (t) => {
  const attacker = newSigner('p256')
  const jwk = attacker.cert.publicKey.export({ format: 'jwk' })
  const jws = handmadeJws({ alg: 'ES256', jwk, ...unencoded }, body, joseSigner('ES256', attacker.privateKey))
  refusal(t, jws, 'EGIF_ERR_JWS_INVALID')
})

t.test('an algorithm that does not fit the sender\'s key is refused', async (t) => {
  const rsa = newSigner('rsa2048')
  refusal(t, handmadeJws({ alg: 'RS256', ...unencoded }, body, joseSigner('RS256', rsa.privateKey)), 'EGIF_ERR_JWS_UNTRUSTED_KEY', { message: /RS256/ })
  const asHub = hubKeyFromPrivateKey(sender.privateKey, { certificate: sender.cert })
  const [, , s] = signDetached(asHub, body).split('.')
  const claimsEdDSA = `${b64u({ alg: 'EdDSA', x5c: [sender.cert.raw.toString('base64')], ...unencoded })}..${s}`
  refusal(t, claimsEdDSA, 'EGIF_ERR_JWS_ALGORITHM')
  // PS256 and RS256 both use the RSA key: a PSS signature labelled RS256 is simply invalid.
  refusal(t, handmadeJws({ alg: 'RS256', ...unencoded }, body, joseSigner('PS256', rsa.privateKey)), 'EGIF_ERR_JWS_INVALID', { trust: registered(rsa.cert) })
})

t.test('a registered RSA key shorter than 2048 bits is never used', async (t) => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
  const cert = certify(weak)
  refusal(t, handmadeJws({ alg: 'RS256', ...unencoded }, body, joseSigner('RS256', weak)), 'EGIF_ERR_JWS_UNTRUSTED_KEY', { trust: registered(cert) })
})

t.test('x5c that is not a certificate, or disagrees with x5t#S256, is malformed', async (t) => {
  const signer = joseSigner('ES256', sender.privateKey)
  refusal(t, handmadeJws({ alg: 'ES256', x5c: ['AAAA'], ...unencoded }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', x5c: [sender.cert.raw.toString('base64url')], ...unencoded }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', x5c: [], ...unencoded }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', x5c: [sender.cert.raw.toString('base64')], 'x5t#S256': b64u('x'.repeat(32)), ...unencoded }, body, signer), 'EGIF_ERR_JWS_MALFORMED')
  refusal(t, handmadeJws({ alg: 'ES256', 'x5t#S256': b64u('y'.repeat(32)), ...unencoded }, body, signer), 'EGIF_ERR_JWS_UNTRUSTED_KEY')
})
