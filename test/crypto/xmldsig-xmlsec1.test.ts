// Interoperability with xmlsec1 (Debian package `xmlsec1`): documents it signs verify here, and
// documents signed here verify with `xmlsec1 --verify --enabled-key-data x509 --trusted-pem ca.pem`.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { XmlDocument } from 'libxml2-wasm'
import { signXml, verifyXmlSignature } from '../../src/crypto/xmldsig/index.js'
import { isHubError } from '../../src/errors.js'
import { createPki, registered } from '../helpers/pki.js'
import { tmpDir } from '../helpers/tmp.js'

const hasXmlsec = spawnSync('xmlsec1', ['--version']).status === 0
if (!hasXmlsec) {
  // The interop claim is only worth something when it is checked: never skip silently
  t.fail(`xmlsec1 is not installed (apt-get install -y xmlsec1)${process.env.CI !== undefined ? ' and CI is set' : ''}`)
} else {
  const dir = tmpDir(t, 'egif-xmlsec1-')
  const pki = createPki(dir)
  const agency = pki.issue('agency-xmlsec', 'rsa')
  const NS = 'urn:th:egif:test:memo:1'
  const body = `<memo:Memo xmlns:memo="${NS}" Id="memo-7">\n  <memo:Subject>ขออนุมัติจัดซื้อ</memo:Subject>\n  <memo:Amount currency="THB">125000.00</memo:Amount>\n</memo:Memo>`
  const C14N = { 'exc-c14n': 'http://www.w3.org/2001/10/xml-exc-c14n#', c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' } as const

  const template = (c14n: keyof typeof C14N, uri: string): string => body.replace('</memo:Memo>',
    '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>' +
    `<CanonicalizationMethod Algorithm="${C14N[c14n]}"/><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
    `<Reference URI="${uri}"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><Transform Algorithm="${C14N[c14n]}"/></Transforms>` +
    '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo>' +
    '<SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature></memo:Memo>')

  const idArgs = ['--id-attr:Id', `${NS}:Memo`]

  function xmlsecVerify (bytes: Buffer, name: string): boolean {
    const file = join(dir, name)
    writeFileSync(file, bytes)
    return spawnSync('xmlsec1', ['--verify', '--enabled-key-data', 'x509', '--trusted-pem', pki.ca.certPath, ...idArgs, file]).status === 0
  }

  function ours (bytes: Buffer): string {
    const doc = XmlDocument.fromBuffer(bytes)
    try {
      return verifyXmlSignature(doc, { trust: registered(agency), at: new Date(), forms: ['xmldsig'] })?.form ?? 'unsigned'
    } catch (err) {
      if (isHubError(err)) return err.code
      throw err
    } finally {
      doc.dispose()
    }
  }

  const tamper = (bytes: Buffer): Buffer => Buffer.from(bytes.toString().replace('125000.00', '925000.00'))

  for (const c14n of ['exc-c14n', 'c14n'] as const) {
    for (const uri of ['', '#memo-7']) {
      t.test(`xmlsec1 --sign (${c14n}, URI="${uri}") verifies here`, async (t) => {
        const tmpl = join(dir, `tmpl-${c14n}-${uri.length}.xml`)
        const out = join(dir, `signed-${c14n}-${uri.length}.xml`)
        writeFileSync(tmpl, template(c14n, uri))
        execFileSync('xmlsec1', ['--sign', '--privkey-pem', `${agency.keyPath},${agency.certPath}`, ...idArgs, '--output', out, tmpl], { stdio: ['ignore', 'ignore', 'pipe'] })
        const signed = readFileSync(out)
        t.equal(ours(signed), 'xmldsig')
        t.equal(ours(tamper(signed)), 'EGIF_ERR_SIGNATURE_DIGEST_MISMATCH', 'one byte changed fails')
      })
    }
  }

  for (const c14n of ['exc-c14n', 'c14n'] as const) {
    for (const reference of ['whole', 'id'] as const) {
      for (const form of ['xmldsig', 'xades-bes'] as const) {
        t.test(`signXml (${form}, ${c14n}, ${reference}) verifies with xmlsec1`, async (t) => {
          const signed = signXml(Buffer.from(body), { key: agency.key, certificate: agency.cert, form, c14n, reference })
          t.ok(xmlsecVerify(signed, 'ours.xml'), 'xmlsec1 --verify accepts it')
          t.notOk(xmlsecVerify(tamper(signed), 'ours-tampered.xml'), 'one byte changed: xmlsec1 refuses it')
        })
      }
    }
  }
}
