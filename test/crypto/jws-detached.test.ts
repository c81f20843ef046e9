import t from 'tap'
import { createHash } from 'node:crypto'
import { HUB_ALGORITHMS, hubKeyFromPrivateKey } from '../../src/crypto/hub-key.js'
import { JWS_ALGORITHMS } from '../../src/crypto/jws-algorithms.js'
import { signDetached, verifyDetached } from '../../src/crypto/jws.js'
import { HubError } from '../../src/errors.js'
import { daysFromNow, handmadeJws, joseSigner, KIND_FOR_ALG, newCa, newSigner, registered } from '../helpers/jose-pki.js'

function code (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof HubError ? err.code : `not a HubError: ${String(err)}`
  }
  return undefined
}

const body = Buffer.from('{"invoiceNumber":"INV-0001","seller":{"name":"บริษัท ตัวอย่าง จำกัด"},"total":"1070.00"}')
const at = new Date()

t.test('signDetached / verifyDetached round trip for every hub algorithm', async (t) => {
  for (const alg of HUB_ALGORITHMS) {
    const signer = newSigner(KIND_FOR_ALG[alg])
    const key = hubKeyFromPrivateKey(signer.privateKey, { alg, certificate: signer.cert })
    const jws = signDetached(key, body)
    const [h, p] = jws.split('.')
    t.equal(p, '', `${alg}: detached`)
    const header = JSON.parse(Buffer.from(h, 'base64url').toString())
    t.same(header.crit, ['b64'], `${alg}: RFC 7797 crit`)
    t.equal(header.b64, false)
    t.same(header.x5c, [signer.cert.raw.toString('base64')], `${alg}: x5c carries the certificate`)
    const result = verifyDetached(jws, body, { trust: registered(signer.cert), at })
    t.same(result, {
      alg,
      b64: false,
      certificate: { fingerprint256: signer.cert.fingerprint256, subject: signer.cert.subject, trustPath: 'registered' }
    }, alg)
  }
})

t.test('every allowed algorithm, signed by an independent implementation, both detached forms', async (t) => {
  for (const alg of JWS_ALGORITHMS) {
    const signer = newSigner(KIND_FOR_ALG[alg])
    for (const b64 of [false, true]) {
      const header = b64 ? { alg } : { alg, b64: false, crit: ['b64'] }
      const jws = handmadeJws(header, body, joseSigner(alg, signer.privateKey))
      const result = verifyDetached(jws, body, { trust: registered(signer.cert), at })
      t.equal(result.alg, alg)
      t.equal(result.b64, b64, `${alg} b64=${String(b64)}`)
    }
  }
})

t.test('without x5c every registered certificate valid at the time is tried (rotation)', async (t) => {
  const old = newSigner('rsa2048', { notBefore: daysFromNow(-400), notAfter: daysFromNow(30) })
  const current = newSigner('rsa2048')
  const ec = newSigner('p256')
  const trust = registered(old.cert, ec.cert, current.cert)
  for (const s of [old, current]) {
    const jws = handmadeJws({ alg: 'RS256', b64: false, crit: ['b64'] }, body, joseSigner('RS256', s.privateKey))
    t.equal(verifyDetached(jws, body, { trust, at }).certificate.fingerprint256, s.cert.fingerprint256)
  }
})

t.test('x5t#S256 names the registered certificate', async (t) => {
  const a = newSigner('p256')
  const b = newSigner('p256')
  const thumb = createHash('sha256').update(b.cert.raw).digest('base64url')
  const jws = handmadeJws({ alg: 'ES256', 'x5t#S256': thumb, b64: false, crit: ['b64'] }, body, joseSigner('ES256', b.privateKey))
  t.equal(verifyDetached(jws, body, { trust: registered(a.cert, b.cert), at }).certificate.fingerprint256, b.cert.fingerprint256)
})

t.test('x5c issued by a bound CA is trusted through the CA', async (t) => {
  const ca = newCa('p256')
  const subject = { CN: 'e-Tax signer', O: 'Revenue Department', C: 'TH' }
  const signer = ca.issue(subject, 'rsa2048')
  const key = hubKeyFromPrivateKey(signer.privateKey, { alg: 'PS256', certificate: signer.cert })
  const trust = { certificates: [], authorities: [{ ca: ca.cert, subject: { O: 'Revenue Department', C: 'TH' } }] }
  const result = verifyDetached(signDetached(key, body), body, { trust, at })
  t.equal(result.certificate.trustPath, 'ca')
  t.equal(result.certificate.fingerprint256, signer.cert.fingerprint256)

  const outsider = ca.issue({ CN: 'x', O: 'Another Department', C: 'TH' }, 'p256')
  const other = hubKeyFromPrivateKey(outsider.privateKey, { certificate: outsider.cert })
  t.equal(code(() => verifyDetached(signDetached(other, body), body, { trust, at })), 'EGIF_ERR_JWS_UNTRUSTED_KEY', 'a CA-issued certificate with another subject')

  const noX5c = signDetached(key, body, { x5c: false })
  t.notOk(JSON.parse(Buffer.from(noX5c.split('.')[0], 'base64url').toString()).x5c, 'x5c: false leaves it out')
  t.equal(code(() => verifyDetached(noX5c, body, { trust, at })), 'EGIF_ERR_JWS_UNTRUSTED_KEY', 'a CA-trusted sender must send x5c')
})

t.test('the exact bytes count: a BOM is part of the body', async (t) => {
  const signer = newSigner('ed25519')
  const key = hubKeyFromPrivateKey(signer.privateKey, { certificate: signer.cert })
  const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body])
  const jws = signDetached(key, withBom)
  t.equal(verifyDetached(jws, withBom, { trust: registered(signer.cert), at }).alg, 'EdDSA')
  t.equal(code(() => verifyDetached(jws, body, { trust: registered(signer.cert), at })), 'EGIF_ERR_JWS_INVALID')
})

t.test('a body given as a view into a larger buffer is read exactly', async (t) => {
  const signer = newSigner('p256')
  const key = hubKeyFromPrivateKey(signer.privateKey, { certificate: signer.cert })
  const big = Buffer.concat([Buffer.from('prefix'), body, Buffer.from('suffix')])
  const view = new Uint8Array(big.buffer, big.byteOffset + 6, body.length)
  for (const b64 of [false, true]) {
    const header = b64 ? { alg: 'ES256' } : { alg: 'ES256', b64: false, crit: ['b64'] }
    const jws = handmadeJws(header, body, joseSigner('ES256', signer.privateKey))
    t.equal(verifyDetached(jws, view, { trust: registered(signer.cert), at }).b64, b64)
  }
  t.equal(verifyDetached(signDetached(key, view), body, { trust: registered(signer.cert), at }).alg, 'ES256')
})
