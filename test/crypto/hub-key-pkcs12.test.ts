import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadHubKey } from '../../src/crypto/hub-key.js'
import { jwkThumbprint } from '../../src/crypto/jwk.js'
import { signCompact, verifyCompact } from '../../src/crypto/jws.js'
import { HubError } from '../../src/errors.js'
import { certify, newCa, newKey, opensslPkcs12, type KeyKind } from '../helpers/jose-pki.js'

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof HubError ? err.code : `not a HubError: ${String(err)}`
  }
  return undefined
}

const KINDS: Array<[KeyKind, string]> = [['rsa2048', 'RS256'], ['p256', 'ES256'], ['ed25519', 'EdDSA']]

for (const legacy of [false, true]) {
  // OpenSSL 3's default is PBES2 with AES-256-CBC and an HMAC-SHA-256 MAC; -legacy is 3DES/RC2 with SHA-1.
  t.test(`PKCS#12 (${legacy ? 'legacy 3DES/RC2' : 'AES-256 / PBKDF2'}) for RSA, P-256 and Ed25519`, async (t) => {
    const dir = t.testdir()
    for (const [kind, alg] of KINDS) {
      const privateKey = newKey(kind)
      const cert = certify(privateKey, { subject: { CN: `hub ${kind}`, O: 'Hub Operator', C: 'TH' } })
      const file = opensslPkcs12(dir, kind, { privateKey, certs: [cert], passphrase: 'p12 secret', legacy })
      const key = loadHubKey({ pkcs12File: file, passphrase: 'p12 secret' })
      t.equal(key.alg, alg, `${kind}: default algorithm`)
      t.equal(key.kid, jwkThumbprint(privateKey), `${kind}: the same key`)
      t.equal(key.certificate?.fingerprint256, cert.fingerprint256, `${kind}: the same certificate, byte for byte`)
      t.same(verifyCompact(signCompact(key, { ok: true }), [key]).payload, { ok: true }, `${kind}: signs`)
    }
  })
}

t.test('PKCS#12 with a wrong or missing passphrase is a clear error', async (t) => {
  const dir = t.testdir()
  const privateKey = newKey('p256')
  const file = opensslPkcs12(dir, 'hub', { privateKey, certs: [certify(privateKey)], passphrase: 'right' })
  t.equal(code(() => loadHubKey({ pkcs12File: file, passphrase: 'wrong' })), 'EGIF_ERR_KEY_PASSPHRASE')
  t.equal(code(() => loadHubKey({ pkcs12File: file })), 'EGIF_ERR_KEY_PASSPHRASE')
  try {
    loadHubKey({ pkcs12File: file, passphrase: 'wrong' })
  } catch (err) {
    t.match((err as Error).message, /passphrase/, 'the message names the passphrase')
    t.equal((err as HubError).status, 500)
  }
})

t.test('PKCS#12 with its CA chain: the certificate of the key is picked', async (t) => {
  const dir = t.testdir()
  const ca = newCa('p256')
  const hub = ca.issue({ CN: 'egif hub', O: 'Hub Operator', C: 'TH' }, 'p256')
  // The CA first, so that order alone would pick the wrong one.
  const file = opensslPkcs12(dir, 'chain', { privateKey: hub.privateKey, certs: [ca.cert, hub.cert], passphrase: 'x' })
  const key = loadHubKey({ pkcs12File: file, passphrase: 'x' })
  t.equal(key.certificate?.fingerprint256, hub.cert.fingerprint256)
})

t.test('PKCS#12: certFile overrides, and must match', async (t) => {
  const dir = t.testdir()
  const privateKey = newKey('p256')
  const file = opensslPkcs12(dir, 'hub', { privateKey, certs: [certify(privateKey)], passphrase: 'x' })
  const renewed = certify(privateKey, { subject: { CN: 'renewed', O: 'Hub Operator', C: 'TH' } })
  writeFileSync(join(dir, 'renewed.crt'), renewed.toString())
  writeFileSync(join(dir, 'other.crt'), certify(newKey('p256')).toString())
  t.equal(loadHubKey({ pkcs12File: file, passphrase: 'x', certFile: join(dir, 'renewed.crt') }).certificate?.fingerprint256, renewed.fingerprint256)
  t.equal(code(() => loadHubKey({ pkcs12File: file, passphrase: 'x', certFile: join(dir, 'other.crt') })), 'EGIF_ERR_KEY_CERT_MISMATCH')
})

t.test('not a PKCS#12 file', async (t) => {
  const dir = t.testdir({ 'fake.p12': 'not DER at all', 'pem.p12': newKey('p256').export({ type: 'pkcs8', format: 'pem' }).toString() })
  t.equal(code(() => loadHubKey({ pkcs12File: join(dir, 'fake.p12'), passphrase: 'x' })), 'EGIF_ERR_KEY_FORMAT')
  t.equal(code(() => loadHubKey({ pkcs12File: join(dir, 'pem.p12'), passphrase: 'x' })), 'EGIF_ERR_KEY_FORMAT')
  t.equal(code(() => loadHubKey({ pkcs12File: join(dir, 'missing.p12'), passphrase: 'x' })), 'EGIF_ERR_KEY_READ')
})
