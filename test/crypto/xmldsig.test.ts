import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { XmlC14NMode, XmlDocument } from 'libxml2-wasm'
import { signXml, verifyXmlSignature, KeyCache } from '../../src/crypto/xmldsig/index.js'
import { canonicalizeDocument, canonicalizeSubtree, OctetCollector } from '../../src/crypto/xmldsig/c14n.js'
import { documentPointer } from '../../src/crypto/xmldsig/native.js'
import { isHubError } from '../../src/errors.js'
import { createPki, registered } from '../helpers/pki.js'
import { tmpDir } from '../helpers/tmp.js'

const pki = createPki(tmpDir(t, 'egif-xmldsig-'))
const rsa = pki.issue('agency-rsa', 'rsa')
const ec = pki.issue('agency-ec', 'ec')

/** A ~5 KB business document with an Id on its root, namespaces, attributes and non-ASCII text. */
function businessDocument (): Buffer {
  const lines = Array.from({ length: 28 }, (_, i) =>
    `    <gov:Line no="${i + 1}" unit="THB"><gov:Item>พัสดุ ${i + 1} — office supplies</gov:Item><gov:Amount>${(i + 1) * 125}.50</gov:Amount></gov:Line>`)
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<gov:Order xmlns:gov="urn:th:egif:test:order:1" xmlns:x="urn:th:egif:test:extra" Id="order-1" x:flag="on">
  <gov:Header>
    <gov:From>agency-a</gov:From>
    <gov:To>agency-b</gov:To>
  </gov:Header>
  <gov:Lines>
${lines.join('\n')}
  </gov:Lines>
</gov:Order>
`)
}

function verify (bytes: Buffer, opts: Partial<Parameters<typeof verifyXmlSignature>[1]> = {}): ReturnType<typeof verifyXmlSignature> {
  const doc = XmlDocument.fromBuffer(bytes)
  try {
    return verifyXmlSignature(doc, { trust: registered(rsa, ec), at: new Date(), forms: ['xmldsig', 'xades-bes'], ...opts })
  } finally {
    doc.dispose()
  }
}

function code (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (isHubError(err)) return err.code
    throw err
  }
  return 'accepted'
}

t.test('round trips: both forms, each C14N, each digest, RSA-2048 and ECDSA P-256, URI="" and #id', async (t) => {
  const doc = businessDocument()
  for (const [name, id] of [['rsa', rsa], ['ec', ec]] as const) {
    for (const form of ['xmldsig', 'xades-bes'] as const) {
      for (const c14n of ['c14n', 'exc-c14n'] as const) {
        for (const digest of ['sha256', 'sha384', 'sha512'] as const) {
          for (const reference of ['whole', 'id'] as const) {
            const label = `${name} ${form} ${c14n} ${digest} ${reference}`
            const signed = signXml(doc, { key: id.key, certificate: id.cert, form, c14n, digest, reference })
            t.equal(signed.subarray(0, doc.lastIndexOf('</gov:Order>')).compare(doc.subarray(0, doc.lastIndexOf('</gov:Order>'))), 0, `${label}: document bytes untouched`)
            const check = verify(signed)
            t.equal(check?.form, form, label)
            t.equal(check?.certificate.fingerprint256, id.cert.fingerprint256, `${label}: certificate`)
            t.equal(check?.certificate.trustPath, 'registered')
            t.match(check?.algorithm, name === 'rsa' ? `rsa-${digest}` : `ecdsa-${digest}`)
            if (form === 'xades-bes') t.type(check?.signingTime, 'string')
            const tampered = Buffer.from(signed)
            tampered[signed.indexOf('office supplies')] ^= 1
            t.equal(code(() => verify(tampered)), 'EGIF_ERR_SIGNATURE_DIGEST_MISMATCH', `${label}: one byte changed`)
          }
        }
      }
    }
  }
})

t.test('RSASSA-PSS signatures verify', async (t) => {
  const signed = signXml(businessDocument(), { key: rsa.key, certificate: rsa.cert, form: 'xmldsig', pss: true })
  t.match(verify(signed)?.algorithm, 'sha256-rsa-MGF1')
})

t.test('a document without a signature gives null', async (t) => {
  t.equal(verify(businessDocument()), null)
})

t.test('a certificate issued by a bound CA is accepted through the CA path', async (t) => {
  const renewed = pki.issue('agency-renewed', 'rsa')
  const signed = signXml(businessDocument(), { key: renewed.key, certificate: renewed.cert, form: 'xmldsig' })
  const trust = { certificates: [], authorities: [{ ca: pki.ca.cert, subject: { O: 'egif test' } }] }
  t.equal(verify(signed, { trust })?.certificate.trustPath, 'ca')
  t.equal(code(() => verify(signed, { trust: registered(rsa) })), 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY')
})

t.test('a form the document type does not accept is refused', async (t) => {
  const signed = signXml(businessDocument(), { key: rsa.key, certificate: rsa.cert, form: 'xades-bes' })
  t.equal(code(() => verify(signed, { forms: ['xmldsig'] })), 'EGIF_ERR_SIGNATURE_FORM_NOT_ALLOWED')
})

t.test('without X509Data the registered certificates are tried; a KeyValue equal to the registered key is accepted', async (t) => {
  const signed = signXml(businessDocument(), { key: rsa.key, certificate: rsa.cert, form: 'xmldsig' }).toString()
  const noData = signed.replace(/<ds:KeyInfo>.*<\/ds:KeyInfo>/, '')
  t.equal(verify(Buffer.from(noData))?.certificate.fingerprint256, rsa.cert.fingerprint256)
  const jwk = rsa.cert.publicKey.export({ format: 'jwk' })
  const b64 = (s: string | undefined): string => Buffer.from(s!, 'base64url').toString('base64')
  const keyValue = signed.replace(/<ds:X509Data>.*<\/ds:X509Data>/,
    `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>${b64(jwk.n)}</ds:Modulus><ds:Exponent>${b64(jwk.e)}</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`)
  t.equal(verify(Buffer.from(keyValue))?.certificate.fingerprint256, rsa.cert.fingerprint256)
})

t.test('an explicit key cache is used and reused', async (t) => {
  const keys = new KeyCache(2)
  const signed = signXml(businessDocument(), { key: ec.key, certificate: ec.cert, form: 'xmldsig' })
  t.ok(verify(signed, { keys }))
  t.equal(keys.publicKey(new X509Certificate(ec.cert.raw)), keys.publicKey(ec.cert), 'one KeyObject per fingerprint')
})

t.test('pointer-based C14N equals libxml2-wasm\'s public canonicalization', async (t) => {
  const signed = signXml(businessDocument(), { key: rsa.key, certificate: rsa.cert, form: 'xades-bes' })
  const doc = XmlDocument.fromBuffer(signed)
  t.teardown(() => doc.dispose())
  const sig = doc.root.lastChild!
  const signedInfo = doc.get('//ds:SignedInfo', { ds: 'http://www.w3.org/2000/09/xmldsig#' })!
  const ptr = (n: unknown): number => (n as { _nodePtr: number })._nodePtr
  for (const mode of [XmlC14NMode.XML_C14N_1_0, XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, XmlC14NMode.XML_C14N_1_1]) {
    const whole = new OctetCollector()
    canonicalizeDocument(doc, 'document', ptr(sig), { mode, withComments: false }, whole)
    t.equal(whole.bytes().toString(), doc.canonicalizeToString({ mode, isVisible: (n, p) => !n.isSameNode(sig) && !(p?.isSameNode(sig) ?? false) && !isInside(p, sig) }), `document minus Signature, mode ${mode}`)
    const sub = new OctetCollector()
    canonicalizeSubtree(doc, ptr(signedInfo), { mode, withComments: false }, sub)
    t.equal(sub.bytes().toString(), signedInfo.canonicalizeToString({ mode }), `SignedInfo subtree, mode ${mode}`)
  }
  t.ok(documentPointer(doc) > 0)
})

function isInside (node: { parent: unknown } | null, ancestor: { isSameNode: (o: never) => boolean }): boolean {
  for (let n = node as { parent: unknown, isSameNode?: (o: unknown) => boolean } | null; n !== null; n = n.parent as typeof n) {
    if (ancestor.isSameNode(n as never)) return true
  }
  return false
}
