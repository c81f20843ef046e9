/**
 * `node --import tsx bench/xmldsig.bench.ts [--quick]`: the XML path of scenarios (a) and (b),
 * stage by stage, and the signature verification beside xml-crypto's documented usage.
 *
 * (a) the 5 KB gov-letter sample signed as the end-to-end bench signs it (XML-DSig, RSA-2048,
 *     exclusive C14N, SHA-256); (b) the ETDA e-Tax invoice INV71600001.xml signed XAdES-BES
 *     (RSA-SHA512, inclusive C14N), each with its document type's XSD.
 *
 * Figures are CPU time per operation (user + system of this process), the least over many short
 * rounds: on a machine shared with other work, wall-clock rates say more about the neighbours
 * than about the code. The rate is what one core would do at that cost.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DOMParser } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import xpath from 'xpath'
import { KeyCache, signXml, verifyXmlSignature } from '../src/crypto/xmldsig/index.js'
import { parseXml } from '../src/xml/document.js'
import { scanXml } from '../src/xml/scan.js'
import { XsdSchema } from '../src/xml/xsd.js'
import { createPki, registered } from '../test/helpers/pki.js'
import { cpuPerOp, type Row } from './lib/cpu-per-op.js'

const DS = 'http://www.w3.org/2000/09/xmldsig#'
const root = fileURLToPath(new URL('../', import.meta.url))
const corpus = fileURLToPath(new URL('../../shared/corpus/etda-etax-2.0/', import.meta.url))
const quick = process.argv.includes('--quick')
const rounds = quick ? 8 : 30
const roundMs = quick ? 5 : 10

const dir = mkdtempSync(join(tmpdir(), 'egif-bench-xmldsig-'))
const pki = createPki(dir)
const signer = pki.issue('bench-agency', 'rsa')
const trust = registered(signer)
const keys = new KeyCache()
const certPem = readFileSync(signer.certPath)

const cases = [
  {
    name: '(a) gov-letter 5 KB, XML-DSig RSA-2048, exc-c14n, SHA-256',
    bytes: signXml(readFileSync(join(root, 'schemas/gov-letter/samples/valid/with-attachments-5kb.xml')),
      { key: signer.key, certificate: signer.cert, form: 'xmldsig', c14n: 'exc-c14n', digest: 'sha256' }),
    xsd: join(root, 'schemas/gov-letter/gov-letter-1.0.xsd')
  },
  {
    name: '(b) e-Tax invoice, XAdES-BES RSA-SHA512, C14N',
    bytes: signXml(readFileSync(join(corpus, 'samples/INV71600001.xml')),
      { key: signer.key, certificate: signer.cert, form: 'xades-bes', c14n: 'c14n', digest: 'sha512' }),
    xsd: join(corpus, 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd')
  }
]


const opts = { trust, at: new Date(), forms: ['xmldsig', 'xades-bes'] as Array<'xmldsig' | 'xades-bes'>, keys }

for (const c of cases) {
  const xml = c.bytes.toString()
  const xsd = XsdSchema.compile(c.xsd)
  const doc = parseXml(c.bytes)
  if (xsd.validate(doc).length > 0) throw new Error(`${c.name}: the bench document does not validate`)
  if (verifyXmlSignature(doc, opts) === null) throw new Error(`${c.name}: the bench document is not signed`)
  const rows: Row[] = [
    ['scanXml', () => scanXml(c.bytes)],
    ['parseXml (libxml2) + dispose', () => parseXml(c.bytes).dispose()],
    ['XSD validate (document parsed upstream)', () => xsd.validate(doc)],
    ['verify signature (document parsed upstream)', () => verifyXmlSignature(doc, opts)],
    ['whole path: scan + parse + XSD + verify', () => {
      scanXml(c.bytes)
      const d = parseXml(c.bytes)
      try {
        xsd.validate(d)
        return verifyXmlSignature(d, opts)
      } finally {
        d.dispose()
      }
    }]
  ]
  const baseline: Row = ['baseline: xml-crypto 6.3.2 verify (documented usage)', () => {
    const d = new DOMParser().parseFromString(xml, 'text/xml')
    const sig = new SignedXml({ publicCert: certPem })
    sig.loadSignature(xpath.select1(`//*[local-name(.)='Signature' and namespace-uri(.)='${DS}']`, d as unknown as Node) as Node)
    if (!sig.checkSignature(xml)) throw new Error('xml-crypto refused the bench document')
  }]
  const us = [...cpuPerOp(rows, { rounds, roundMs }), ...cpuPerOp([baseline], { rounds, roundMs })]
  console.log(`${c.name} (${c.bytes.length} bytes)`)
  ;[...rows, baseline].forEach(([name], i) => {
    console.log(`  ${name.padEnd(52)} ${us[i].toFixed(1).padStart(8)} µs CPU  ${Math.round(1e6 / us[i]).toLocaleString('en-US').padStart(8)} /s per core`)
  })
  console.log(`  verify: ${(us[5] / us[3]).toFixed(0)}× less CPU than xml-crypto\n`)
  doc.dispose()
  xsd.dispose()
}
rmSync(dir, { recursive: true, force: true })
