// ETDA e-Tax Invoice & Receipt v2.0 signing profile: XAdES-BES, inclusive C14N 1.0, RSA-SHA512,
// a URI="" reference to the whole document and one to the SignedProperties, with the
// SigningCertificate digest. The samples are read from the shared corpus, never copied here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { XmlDocument } from 'libxml2-wasm'
import { signXml, verifyXmlSignature } from '../../src/crypto/xmldsig/index.js'
import { isHubError } from '../../src/errors.js'
import { createPki, registered } from '../helpers/pki.js'
import { tmpDir } from '../helpers/tmp.js'

const corpus = join(import.meta.dirname, '../../../shared/corpus/etda-etax-2.0')
const expected = JSON.parse(readFileSync(join(corpus, 'expected.json'), 'utf8')) as { samples: Record<string, string> }
const valid = Object.entries(expected.samples).filter(([, v]) => v.startsWith('accept')).map(([k]) => k)

const pki = createPki(tmpDir(t, 'egif-etax-'))
const seller = pki.issue('seller-revenue', 'rsa')
const trust = registered(seller)

function verify (bytes: Buffer): string {
  const doc = XmlDocument.fromBuffer(bytes)
  try {
    const check = verifyXmlSignature(doc, { trust, at: new Date(), forms: ['xades-bes'] })
    return check === null ? 'unsigned' : `${check.form} ${check.algorithm}`
  } catch (err) {
    if (isHubError(err)) return err.code
    throw err
  } finally {
    doc.dispose()
  }
}

t.ok(valid.length >= 9, 'the valid e-Tax samples are found')

for (const name of valid) {
  t.test(name, async (t) => {
    const original = readFileSync(join(corpus, 'samples', name))
    const signed = signXml(original, { key: seller.key, certificate: seller.cert, form: 'xades-bes', c14n: 'c14n', digest: 'sha512', reference: 'whole' })
    const text = signed.toString()
    t.equal(signed.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), original.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'a BOM stays as it was')
    t.match(text, '<ds:Reference URI="">')
    t.match(text, 'Type="http://uri.etsi.org/01903#SignedProperties"')
    t.match(text, '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>')
    t.match(text, '<xades:SigningCertificate><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"/>')
    t.equal(verify(signed), 'xades-bes http://www.w3.org/2001/04/xmldsig-more#rsa-sha512')

    const inContent = Buffer.from(signed)
    const pos = signed.indexOf('</ram:ID>') - 1 // the last character of the first identifier
    inContent[pos] = inContent[pos] === 0x30 ? 0x31 : 0x30
    t.equal(verify(inContent), 'EGIF_ERR_SIGNATURE_DIGEST_MISMATCH', 'one byte changed in the invoice fails')
    const inTime = Buffer.from(text.replace(/<xades:SigningTime>(\d)/, (_, d: string) => `<xades:SigningTime>${d === '2' ? '3' : '2'}`))
    t.equal(verify(inTime), 'EGIF_ERR_SIGNATURE_DIGEST_MISMATCH', 'one byte changed in SignedProperties fails')
  })
}
