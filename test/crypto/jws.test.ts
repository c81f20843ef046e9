import t from 'tap'
import { createPublicKey } from 'node:crypto'
import { generateHubKey, HUB_ALGORITHMS } from '../../src/crypto/hub-key.js'
import { jwkThumbprint, publicJwk } from '../../src/crypto/jwk.js'
import { JWS_ALGORITHMS } from '../../src/crypto/jws-algorithms.js'
import { signCompact, verifyCompact } from '../../src/crypto/jws.js'
import { HubError } from '../../src/errors.js'
import { b64u, handmadeJws, joseSigner, KIND_FOR_ALG, newKey } from '../helpers/jose-pki.js'

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof HubError ? err.code : `not a HubError: ${String(err)}`
  }
  return undefined
}

t.test('signCompact / verifyCompact round trip for every hub algorithm', async (t) => {
  for (const alg of HUB_ALGORITHMS) {
    const key = generateHubKey(alg)
    const jws = signCompact(key, { messageId: 'm-1', n: 1, th: 'ใบกำกับภาษี' }, { typ: 'test' })
    const { header, payload } = verifyCompact(jws, [key])
    t.same(header, { typ: 'test', alg, kid: key.kid }, `${alg} header`)
    t.same(payload, { messageId: 'm-1', n: 1, th: 'ใบกำกับภาษี' }, `${alg} payload`)
  }
})

t.test('the key decides alg and kid, not the extra header', async (t) => {
  const key = generateHubKey('ES256')
  const jws = signCompact(key, {}, { alg: 'none', kid: 'spoofed' })
  t.same(verifyCompact(jws, [key]).header, { alg: 'ES256', kid: key.kid })
})

t.test('verifyCompact reads JWS made elsewhere, for every allowed algorithm', async (t) => {
  for (const alg of JWS_ALGORITHMS) {
    const privateKey = newKey(KIND_FOR_ALG[alg])
    const publicKey = createPublicKey(privateKey)
    const jws = handmadeJws({ alg }, Buffer.from(JSON.stringify({ alg })), joseSigner(alg, privateKey), false)
    t.same(verifyCompact(jws, [{ publicKey }]).payload, { alg }, alg)
  }
})

t.test('verifyCompact with a JWKS: kid selects the key, alg and use are honoured', async (t) => {
  const a = generateHubKey('ES256')
  const b = generateHubKey('EdDSA')
  const jwks = { keys: [{ ...publicJwk(a.publicKey), kid: a.kid, alg: 'ES256' }, { ...publicJwk(b.publicKey), kid: b.kid }] }
  t.same(verifyCompact(signCompact(b, { who: 'b' }), jwks).payload, { who: 'b' })
  t.same(verifyCompact(signCompact(a, { who: 'a' }), jwks).payload, { who: 'a' })

  const stranger = generateHubKey('ES256')
  t.equal(code(() => verifyCompact(signCompact(stranger, {}), jwks)), 'EGIF_ERR_JWS_UNTRUSTED_KEY', 'unknown kid')

  // Without a kid every key that fits is tried.
  const noKid = handmadeJws({ alg: 'EdDSA' }, Buffer.from('{}'), joseSigner('EdDSA', b.privateKey), false)
  t.same(verifyCompact(noKid, jwks).payload, {})

  const encOnly = { keys: [{ ...publicJwk(a.publicKey), kid: a.kid, use: 'enc' }] }
  t.equal(code(() => verifyCompact(signCompact(a, {}), encOnly)), 'EGIF_ERR_JWS_UNTRUSTED_KEY', 'a use:enc key never verifies')
  const wrongAlg = { keys: [{ ...publicJwk(a.publicKey), kid: a.kid, alg: 'ES384' }] }
  t.equal(code(() => verifyCompact(signCompact(a, {}), wrongAlg)), 'EGIF_ERR_JWS_ALGORITHM', 'the JWK alg restricts the key')
  const junk = { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: a.kid }, { kty: 'EC', kid: a.kid }] }
  t.equal(code(() => verifyCompact(signCompact(a, {}), junk as never)), 'EGIF_ERR_JWS_UNTRUSTED_KEY', 'unusable JWKs are skipped')
})

t.test('a changed payload or signature does not verify', async (t) => {
  const key = generateHubKey('ES256')
  const [h, p, s] = signCompact(key, { amount: '100.00' }).split('.')
  const forged = `${h}.${b64u({ amount: '900.00' })}.${s}`
  t.equal(code(() => verifyCompact(forged, [key])), 'EGIF_ERR_JWS_INVALID')
  const sig = Buffer.from(s, 'base64url')
  sig[10] ^= 1
  t.equal(code(() => verifyCompact(`${h}.${p}.${sig.toString('base64url')}`, [key])), 'EGIF_ERR_JWS_INVALID')
})

t.test('payloads must be JSON objects', async (t) => {
  const key = generateHubKey('EdDSA')
  const signer = joseSigner('EdDSA', key.privateKey)
  for (const payload of ['[1,2]', '"text"', 'null', 'not json']) {
    const jws = handmadeJws({ alg: 'EdDSA', kid: key.kid }, Buffer.from(payload), signer, false)
    t.equal(code(() => verifyCompact(jws, [key])), 'EGIF_ERR_JWS_MALFORMED', payload)
  }
})

t.test('kid is the thumbprint of the public key', async (t) => {
  const key = generateHubKey('RS256')
  t.equal(key.kid, jwkThumbprint(key.privateKey))
  t.notOk('d' in publicJwk(key.privateKey), 'publicJwk of a private key has no private member')
})
