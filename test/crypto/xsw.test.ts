// Hostile XML signatures: signature wrapping (XSW1–XSW8 after Somorovsky et al., "On Breaking
// SAML", 2012, adapted to enveloped business documents), duplicate Ids, hidden markup, keys the
// document brings, refused algorithms and transforms, foreign references, certificates outside
// their validity. Each vector has its own test and code; then every vector also runs through
// xml-crypto 6.3.2 (documented usage) and xmlsec1 --enabled-key-data x509, and the table shows
// where they accept what the hub refuses (the traps of DESIGN §5).
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { XmlDocument } from 'libxml2-wasm'
import { SignedXml } from 'xml-crypto'
import xpath from 'xpath'
import { signXml, verifyXmlSignature } from '../../src/crypto/xmldsig/index.js'
import { isHubError, type ErrorCode } from '../../src/errors.js'
import { createPki, registered } from '../helpers/pki.js'
import { tmpDir } from '../helpers/tmp.js'

// Some vectors are signed by xmlsec1 and every vector is checked against it: without it the file
// cannot say anything, so it stops here with the reason instead of an ENOENT from a vector.
if (spawnSync('xmlsec1', ['--version']).status !== 0) throw new Error('xmlsec1 is not installed (apt-get install -y xmlsec1); .ci/run installs it')
const dir = tmpDir(t, 'egif-xsw-')
const pki = createPki(dir)
const sender = pki.issue('sender', 'rsa')
const attacker = pki.issue('attacker', 'rsa', { selfSigned: true })
const trust = registered(sender)
const NS = 'urn:th:egif:test:memo:1'
const DS = 'http://www.w3.org/2000/09/xmldsig#'
const YEAR = 365 * 86_400_000

const memo = (id: string, amount: string, extra = ''): string =>
  `<memo:Memo xmlns:memo="${NS}" Id="${id}"><memo:Payee>กรมบัญชีกลาง</memo:Payee><memo:Amount currency="THB">${amount}</memo:Amount>${extra}</memo:Memo>`
const inner = (s: string): string => s.slice(s.indexOf('>') + 1, s.lastIndexOf('</memo:Memo>'))

const sign = (doc: string, opts: Partial<Parameters<typeof signXml>[1]> = {}): string =>
  signXml(Buffer.from(doc), { key: sender.key, certificate: sender.cert, form: 'xmldsig', reference: 'id', ...opts }).toString()

const signedById = sign(memo('memo-7', '100.00'))
const signedWhole = sign(memo('memo-7', '100.00'), { reference: 'whole' })
const signature = (s: string): string => s.slice(s.indexOf('<ds:Signature'), s.indexOf('</ds:Signature>') + '</ds:Signature>'.length)
const withoutSignature = (s: string): string => s.replace(signature(s), '')
const sigById = signature(signedById)
const originalById = withoutSignature(signedById)
const evilContent = inner(memo('x', '999999.00'))
const intoObject = (sig: string, content: string): string => sig.replace('</ds:Signature>', `<ds:Object>${content}</ds:Object></ds:Signature>`)

/** Signs a template with xmlsec1 itself, for vectors that need a correct signature with a refused algorithm. */
function xmlsecSign (doc: string, method: string, digest: string): string {
  const tmpl = join(dir, 'tmpl.xml')
  writeFileSync(tmpl, doc.replace('</memo:Memo>', `<Signature xmlns="${DS}"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
    `<SignatureMethod Algorithm="${method}"/><Reference URI=""><Transforms><Transform Algorithm="${DS}enveloped-signature"/></Transforms>` +
    `<DigestMethod Algorithm="${digest}"/><DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature></memo:Memo>`))
  return execFileSync('xmlsec1', ['--sign', '--privkey-pem', `${sender.keyPath},${sender.certPath}`, '--output', '-', tmpl], { stdio: ['ignore', 'pipe', 'pipe'] }).toString()
}

const attackerKeyValue = (() => {
  const s = signXml(Buffer.from(memo('memo-7', '999999.00')), { key: attacker.key, certificate: attacker.cert, form: 'xmldsig' }).toString()
  const jwk = attacker.cert.publicKey.export({ format: 'jwk' })
  const b64 = (v: string | undefined): string => Buffer.from(v!, 'base64url').toString('base64')
  return s.replace(/<ds:X509Data>.*<\/ds:X509Data>/, `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>${b64(jwk.n)}</ds:Modulus><ds:Exponent>${b64(jwk.e)}</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`)
})()

interface Vector { name: string, xml: string, expect: ErrorCode | 'valid', at?: Date }
const addTransform = (s: string, algorithm: string, times = 1): string =>
  s.replace('<ds:Transforms>', `<ds:Transforms>${`<ds:Transform Algorithm="${algorithm}"/>`.repeat(times)}`)

const vectors: Vector[] = [
  { name: 'valid: URI="#id", C14N', xml: signedById, expect: 'valid' },
  { name: 'valid: URI="", C14N', xml: signedWhole, expect: 'valid' },
  { name: 'valid: URI="", exc-C14N, SHA-512', xml: sign(memo('memo-7', '100.00'), { reference: 'whole', c14n: 'exc-c14n', digest: 'sha512' }), expect: 'valid' },
  { name: 'valid: XAdES-BES', xml: sign(memo('memo-7', '100.00'), { form: 'xades-bes', reference: 'whole' }), expect: 'valid' },
  { name: 'valid: signed by xmlsec1, RSA-SHA256', xml: xmlsecSign(memo('memo-7', '100.00'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmlenc#sha256'), expect: 'valid' },

  // XSW1: a new root with forged content carries the signature; the signed original hides in its Object
  { name: 'XSW1 signed root copied into the Object of a forged root', xml: memo('memo-7', '999999.00', intoObject(sigById, originalById)), expect: 'EGIF_ERR_SIGNATURE_DUPLICATE_ID' },
  // XSW2: the same, the forged root under another Id, the original as its child before the signature
  { name: 'XSW2 signed element moved under a forged root, before the Signature', xml: memo('evil-1', '999999.00', originalById + sigById), expect: 'EGIF_ERR_SIGNATURE_WRAPPING' },
  // XSW3: the signed document and a forged sibling under a new root
  { name: 'XSW3 signed document and a forged sibling under a new root', xml: `<memo:Batch xmlns:memo="${NS}">${signedById}${memo('evil-2', '999999.00')}</memo:Batch>`, expect: 'EGIF_ERR_SIGNATURE_WRAPPING' },
  // XSW4: the signed document (signature and all) nested inside a forged root
  { name: 'XSW4 signed document nested inside a forged root', xml: memo('evil-3', '999999.00', signedById), expect: 'EGIF_ERR_SIGNATURE_WRAPPING' },
  // XSW5: the forged root has no Id; the signed original sits in the Signature's Object
  { name: 'XSW5 signed element inside the Object, forged root without Id', xml: `<memo:Memo xmlns:memo="${NS}">${evilContent}${intoObject(sigById, originalById)}</memo:Memo>`, expect: 'EGIF_ERR_SIGNATURE_WRAPPING' },
  // XSW6: the original (still carrying its signature) inside the Object of a copied signature
  { name: 'XSW6 signed document inside the Object of a second Signature', xml: `<memo:Memo xmlns:memo="${NS}" Id="evil-4">${evilContent}${intoObject(sigById.replace('Id="xmldsig-', 'Id="copy-'), signedById)}</memo:Memo>`, expect: 'EGIF_ERR_SIGNATURE_MULTIPLE' },
  // XSW7: the original inside an unknown extension element of the forged root
  { name: 'XSW7 signed element inside an extension element', xml: memo('evil-5', '999999.00', `<memo:Extensions>${originalById}</memo:Extensions>${sigById}`), expect: 'EGIF_ERR_SIGNATURE_WRAPPING' },
  // XSW8: URI="" signature, forged content in the root, the original in the Object
  { name: 'XSW8 whole-document signature, forged root content, original in the Object', xml: memo('memo-7x', '999999.00', intoObject(signature(signedWhole), withoutSignature(signedWhole).replace('Id="memo-7"', 'Id="orig"'))), expect: 'EGIF_ERR_SIGNATURE_DIGEST_MISMATCH' },
  { name: 'signed document nested inside a new root', xml: `<env:Envelope xmlns:env="urn:th:egif:test:env">${signedWhole}</env:Envelope>`, expect: 'EGIF_ERR_SIGNATURE_WRAPPING' },
  { name: 'duplicate Id', xml: signedById.replace('<memo:Payee>', '<memo:Note Id="memo-7"/><memo:Payee>'), expect: 'EGIF_ERR_SIGNATURE_DUPLICATE_ID' },
  { name: 'two Signature elements', xml: signedById.replace(sigById, sigById + sigById.replace(/Id="xmldsig-/, 'Id="copy-')), expect: 'EGIF_ERR_SIGNATURE_MULTIPLE' },
  { name: 'two SignedInfo elements', xml: signedById.replace('</ds:SignedInfo>', '</ds:SignedInfo>' + sigById.slice(sigById.indexOf('<ds:SignedInfo>'), sigById.indexOf('</ds:SignedInfo>') + 16)), expect: 'EGIF_ERR_SIGNATURE_MULTIPLE' },
  { name: 'an extra Reference', xml: signedById.replace('</ds:SignedInfo>', sigById.slice(sigById.indexOf('<ds:Reference'), sigById.indexOf('</ds:Reference>') + 15) + '</ds:SignedInfo>'), expect: 'EGIF_ERR_SIGNATURE_REFERENCE' },
  { name: 'a comment inside DigestValue', xml: signedById.replace(/<ds:DigestValue>(.{4})/, '<ds:DigestValue>$1<!-- x -->'), expect: 'EGIF_ERR_SIGNATURE_HIDDEN_MARKUP' },
  { name: 'a processing instruction inside signed text', xml: signedById.replace('100.00', '100<?x?>.00'), expect: 'EGIF_ERR_SIGNATURE_PROCESSING_INSTRUCTION' },
  { name: 'a comment inside signed text', xml: signedById.replace('100.00', '100<!---->.00'), expect: 'EGIF_ERR_SIGNATURE_HIDDEN_MARKUP' },
  { name: 'the attacker\'s key in KeyValue', xml: attackerKeyValue, expect: 'EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT' },
  { name: 'an attacker certificate in X509Data', xml: signXml(Buffer.from(memo('memo-7', '999999.00')), { key: attacker.key, certificate: attacker.cert, form: 'xmldsig' }).toString(), expect: 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY' },
  { name: 'RSA-SHA1 and SHA-1 digest (signed by xmlsec1)', xml: xmlsecSign(memo('memo-7', '100.00'), `${DS}rsa-sha1`, `${DS}sha1`), expect: 'EGIF_ERR_SIGNATURE_ALGORITHM' },
  { name: 'HMAC-SHA256 signature method', xml: signedById.replace(/<ds:SignatureMethod Algorithm="[^"]+"\/>/, '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/>'), expect: 'EGIF_ERR_SIGNATURE_ALGORITHM' },
  { name: 'an unknown signature method', xml: signedById.replace(/<ds:SignatureMethod Algorithm="[^"]+"\/>/, '<ds:SignatureMethod Algorithm="urn:example:unknown"/>'), expect: 'EGIF_ERR_SIGNATURE_ALGORITHM' },
  { name: 'an XSLT transform', xml: addTransform(signedById, 'http://www.w3.org/TR/1999/REC-xslt-19991116'), expect: 'EGIF_ERR_SIGNATURE_TRANSFORM' },
  { name: 'an XPath transform', xml: signedById.replace('<ds:Transforms>', `<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>`), expect: 'EGIF_ERR_SIGNATURE_TRANSFORM' },
  { name: 'more than 5 transforms', xml: addTransform(signedById, 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315', 5), expect: 'EGIF_ERR_SIGNATURE_TRANSFORM' },
  { name: 'a reference to http://', xml: signedById.replace('URI="#memo-7"', 'URI="http://example.invalid/memo.xml"'), expect: 'EGIF_ERR_SIGNATURE_REFERENCE' },
  { name: 'a reference to file:', xml: signedById.replace('URI="#memo-7"', 'URI="file:///etc/hostname"'), expect: 'EGIF_ERR_SIGNATURE_REFERENCE' },
  { name: 'one byte changed in signed content', xml: signedById.replace('100.00', '900.00'), expect: 'EGIF_ERR_SIGNATURE_DIGEST_MISMATCH' },
  { name: 'an expired registered certificate', xml: signedById, expect: 'EGIF_ERR_SIGNATURE_CERT_NOT_VALID', at: new Date(Date.now() + 5 * YEAR) },
  { name: 'a registered certificate not yet valid', xml: signedById, expect: 'EGIF_ERR_SIGNATURE_CERT_NOT_VALID', at: new Date(Date.now() - YEAR) }
]

function ours (v: Vector): string {
  const doc = XmlDocument.fromString(v.xml)
  try {
    return verifyXmlSignature(doc, { trust, at: v.at ?? new Date(), forms: ['xmldsig', 'xades-bes'] }) === null ? 'unsigned' : 'valid'
  } catch (err) {
    if (isHubError(err)) return err.code
    throw err
  } finally {
    doc.dispose()
  }
}

/** xml-crypto's documented usage: find the Signature, load it, check it with the registered certificate. */
function xmlCrypto (xml: string): string {
  try {
    const doc = new DOMParser().parseFromString(xml, 'text/xml')
    const sigNode = xpath.select1(`//*[local-name(.)='Signature' and namespace-uri(.)='${DS}']`, doc as unknown as Node)
    const sig = new SignedXml({ publicCert: readFileSync(sender.certPath) })
    sig.loadSignature(sigNode as Node)
    return sig.checkSignature(xml) ? 'accept' : 'refuse'
  } catch {
    return 'refuse'
  }
}

function xmlsec (xml: string): string {
  const file = join(dir, 'vector.xml')
  writeFileSync(file, xml)
  const r = spawnSync('xmlsec1', ['--verify', '--enabled-key-data', 'x509', '--trusted-pem', pki.ca.certPath, '--id-attr:Id', `${NS}:Memo`, file])
  if (r.error !== undefined) return 'missing'
  return r.status === 0 ? 'accept' : 'refuse'
}

for (const v of vectors) {
  t.test(v.name, async (t) => {
    t.equal(ours(v), v.expect)
  })
}

t.test('differential: the hub, xml-crypto 6.3.2 and xmlsec1 on every vector', async (t) => {
  if (spawnSync('xmlsec1', ['--version']).status !== 0) t.fail('xmlsec1 is not installed (apt-get install -y xmlsec1)')
  const rows: string[][] = []
  for (const v of vectors) {
    // the other verifiers check certificate validity against the clock, not the hub's `at`
    const row = [v.name, ours(v), v.at === undefined ? xmlCrypto(v.xml) : 'n/a', v.at === undefined ? xmlsec(v.xml) : 'n/a']
    rows.push(row)
    if (v.expect === 'valid') {
      t.same(row.slice(1), ['valid', 'accept', 'accept'], `${v.name}: all three accept`)
    } else {
      t.equal(row[1], v.expect, `${v.name}: the hub refuses`)
    }
  }
  const traps = rows.filter((r) => r[1] !== 'valid' && (r[2] === 'accept' || r[3] === 'accept'))
  const width = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 12))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(width[i])).join(' | ')
  t.comment(['', line(['vector', 'egif-hub', 'xml-crypto', 'xmlsec1']), ...rows.map(line), '',
    `accepted by another verifier, refused by the hub: ${traps.length}`, ...traps.map((r) => `  - ${r[0]} (${r[1]})`)].join('\n'))
  t.ok(traps.length > 0, 'the table shows at least one trap the other verifiers fall into')
})
