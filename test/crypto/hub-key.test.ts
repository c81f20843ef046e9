import t from 'tap'
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportHubKeyPem, generateHubKey, HUB_ALGORITHMS, loadHubKey } from '../../src/crypto/hub-key.js'
import { jwkThumbprint } from '../../src/crypto/jwk.js'
import { verifyCompact } from '../../src/crypto/jws.js'
import { signCompact } from '../../src/crypto/jws.js'
import { HubError } from '../../src/errors.js'
import { certify, newKey } from '../helpers/jose-pki.js'

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof HubError ? err.code : `not a HubError: ${String(err)}`
  }
  return undefined
}

t.test('kid is the RFC 7638 thumbprint (the RFC\'s own example)', async (t) => {
  // RFC 7638 §3.1.
  const key = createPublicKey({
    format: 'jwk',
    key: {
      kty: 'RSA',
      e: 'AQAB',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw'
    }
  })
  t.equal(jwkThumbprint(key), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
})

t.test('generateHubKey makes a usable key for each hub algorithm', async (t) => {
  for (const alg of HUB_ALGORITHMS) {
    const key = generateHubKey(alg)
    t.equal(key.alg, alg)
    t.equal(key.kid, jwkThumbprint(key.publicKey))
    t.equal(key.certificate, undefined)
    const again = loadHubKey({ pem: exportHubKeyPem(key), alg })
    t.equal(again.kid, key.kid, `${alg} survives export and reload`)
    t.same(verifyCompact(signCompact(again, { a: 1 }), [key]).payload, { a: 1 })
  }
  t.equal(generateHubKey('RS256', { rsaBits: 3072 }).publicKey.asymmetricKeyDetails?.modulusLength, 3072)
})

t.test('PEM: PKCS#8, PKCS#1, SEC1, and the default algorithm per key type', async (t) => {
  const rsa = newKey('rsa2048')
  const ec = newKey('p256')
  const ed = newKey('ed25519')
  const cases = [
    { name: 'RSA PKCS#8', pem: rsa.export({ type: 'pkcs8', format: 'pem' }), alg: 'RS256' },
    { name: 'RSA PKCS#1', pem: rsa.export({ type: 'pkcs1', format: 'pem' }), alg: 'RS256' },
    { name: 'EC PKCS#8', pem: ec.export({ type: 'pkcs8', format: 'pem' }), alg: 'ES256' },
    { name: 'EC SEC1', pem: ec.export({ type: 'sec1', format: 'pem' }), alg: 'ES256' },
    { name: 'Ed25519 PKCS#8', pem: ed.export({ type: 'pkcs8', format: 'pem' }), alg: 'EdDSA' }
  ]
  for (const c of cases) {
    const key = loadHubKey({ pem: c.pem.toString() })
    t.equal(key.alg, c.alg, c.name)
    t.equal(key.privateKey.type, 'private')
    t.equal(key.publicKey.type, 'public')
  }
  t.equal(loadHubKey({ pem: rsa.export({ type: 'pkcs1', format: 'pem' }).toString(), alg: 'PS256' }).alg, 'PS256', 'PS256 on an RSA key')
})

t.test('PEM: encrypted keys need the right passphrase', async (t) => {
  const key = newKey('p256')
  const pkcs8 = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }).toString()
  const sec1 = key.export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' }).toString()
  for (const pem of [pkcs8, sec1]) {
    t.equal(loadHubKey({ pem, passphrase: 'correct horse' }).kid, jwkThumbprint(key))
    t.equal(code(() => loadHubKey({ pem })), 'EGIF_ERR_KEY_PASSPHRASE', 'no passphrase')
    t.equal(code(() => loadHubKey({ pem, passphrase: 'wrong' })), 'EGIF_ERR_KEY_PASSPHRASE', 'wrong passphrase')
  }
})

t.test('PEM files with a certificate: in the key file or in certFile', async (t) => {
  const dir = t.testdir()
  const key = newKey('p256')
  const cert = certify(key)
  const other = certify(newKey('p256'), { subject: { CN: 'someone else', O: 'X', C: 'TH' } })
  writeFileSync(join(dir, 'hub.key'), key.export({ type: 'pkcs8', format: 'pem' }))
  // A bundle whose first certificate is not the key's: the matching one is picked.
  writeFileSync(join(dir, 'bundle.pem'), other.toString() + String(key.export({ type: 'pkcs8', format: 'pem' })) + cert.toString())
  writeFileSync(join(dir, 'hub.crt'), cert.toString())
  writeFileSync(join(dir, 'other.crt'), other.toString())

  const a = loadHubKey({ pemFile: join(dir, 'hub.key'), certFile: join(dir, 'hub.crt') })
  t.equal(a.certificate?.fingerprint256, cert.fingerprint256)
  const b = loadHubKey({ pemFile: join(dir, 'bundle.pem') })
  t.equal(b.certificate?.fingerprint256, cert.fingerprint256)
  t.equal(loadHubKey({ pemFile: join(dir, 'hub.key') }).certificate, undefined)
  t.equal(code(() => loadHubKey({ pemFile: join(dir, 'hub.key'), certFile: join(dir, 'other.crt') })), 'EGIF_ERR_KEY_CERT_MISMATCH')
})

t.test('clear errors for bad sources', async (t) => {
  const dir = t.testdir({ 'garbage.pem': 'hello', 'cert-only.pem': certify(newKey('p256')).toString() })
  t.equal(code(() => loadHubKey({})), 'EGIF_ERR_KEY_SOURCE', 'no source')
  t.equal(code(() => loadHubKey({ pem: 'x', pemFile: 'y' })), 'EGIF_ERR_KEY_SOURCE', 'two sources')
  t.equal(code(() => loadHubKey({ pemFile: join(dir, 'missing.pem') })), 'EGIF_ERR_KEY_READ')
  t.equal(code(() => loadHubKey({ pemFile: join(dir, 'garbage.pem') })), 'EGIF_ERR_KEY_FORMAT')
  t.equal(code(() => loadHubKey({ pemFile: join(dir, 'cert-only.pem') })), 'EGIF_ERR_KEY_FORMAT')
  t.equal(code(() => loadHubKey({ pem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' })), 'EGIF_ERR_KEY_FORMAT')
  t.equal(code(() => loadHubKey({ pemFile: join(dir, 'garbage.pem'), certFile: join(dir, 'garbage.pem') })), 'EGIF_ERR_KEY_FORMAT', 'certFile without a certificate')
})

t.test('unsupported keys and algorithms that do not fit', async (t) => {
  const pem = (k: ReturnType<typeof newKey>): string => k.export({ type: 'pkcs8', format: 'pem' }).toString()
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
  t.equal(code(() => loadHubKey({ pem: pem(weak) })), 'EGIF_ERR_KEY_UNSUPPORTED', 'RSA-1024')
  t.equal(code(() => loadHubKey({ pem: pem(newKey('p384')) })), 'EGIF_ERR_KEY_UNSUPPORTED', 'P-384')
  t.equal(code(() => loadHubKey({ pem: pem(newKey('ed448')) })), 'EGIF_ERR_KEY_UNSUPPORTED', 'Ed448')
  t.equal(code(() => loadHubKey({ pem: pem(generateKeyPairSync('x25519').privateKey) })), 'EGIF_ERR_KEY_UNSUPPORTED', 'X25519')
  t.equal(code(() => loadHubKey({ pem: pem(newKey('rsa2048')), alg: 'ES256' })), 'EGIF_ERR_KEY_ALGORITHM', 'ES256 on RSA')
  t.equal(code(() => loadHubKey({ pem: pem(newKey('p256')), alg: 'EdDSA' })), 'EGIF_ERR_KEY_ALGORITHM', 'EdDSA on P-256')
  t.equal(code(() => loadHubKey({ pem: pem(newKey('p256')), alg: 'HS256' as never })), 'EGIF_ERR_KEY_ALGORITHM', 'HS256')
})
