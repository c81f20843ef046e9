/**
 * `node --import tsx bench/xmldsig.bench.ts [--quick]`: XML signature verifications per second of a
 * ~5 KB XML-DSig document and of a signed ETDA e-Tax invoice (XAdES-BES), the hub's verifier
 * (libxml2 C14N + node:crypto, keys cached) beside xml-crypto's documented usage in the same run.
 * Target: at least 4,000/s on one core for the 5 KB document.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import { XmlDocument } from 'libxml2-wasm'
import { SignedXml } from 'xml-crypto'
import xpath from 'xpath'
import { KeyCache, signXml, verifyXmlSignature } from '../src/crypto/xmldsig/index.js'
import { createPki, registered } from '../test/helpers/pki.js'

const DS = 'http://www.w3.org/2000/09/xmldsig#'
const dir = mkdtempSync(join(tmpdir(), 'egif-bench-xmldsig-'))
const pki = createPki(dir)
const signer = pki.issue('bench-agency', 'rsa')
const trust = registered(signer)
const keys = new KeyCache()

function fiveKb (): Buffer {
  const lines = Array.from({ length: 26 }, (_, i) =>
    `    <gov:Line no="${i + 1}" unit="THB"><gov:Item>พัสดุ ${i + 1} office supplies</gov:Item><gov:Amount>${(i + 1) * 125}.50</gov:Amount></gov:Line>`)
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<gov:Order xmlns:gov="urn:th:egif:test:order:1" Id="order-1">\n  <gov:Lines>\n${lines.join('\n')}\n  </gov:Lines>\n</gov:Order>\n`)
}

const cases = [
  { name: '5 KB XML-DSig, RSA-2048, exc-c14n, SHA-256', bytes: signXml(fiveKb(), { key: signer.key, certificate: signer.cert, form: 'xmldsig', c14n: 'exc-c14n', digest: 'sha256' }) },
  {
    name: 'e-Tax invoice XAdES-BES, RSA-SHA512, C14N',
    bytes: signXml(readFileSync(join(import.meta.dirname, '../../shared/corpus/etda-etax-2.0/samples/INV71600001.xml')),
      { key: signer.key, certificate: signer.cert, form: 'xades-bes', c14n: 'c14n', digest: 'sha512' })
  }
]

const quick = process.argv.includes('--quick')

function rate (fn: () => unknown, ms = quick ? 300 : 2000): number {
  for (let i = 0; i < 200; i++) fn() // warm up
  let n = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 50; i++) fn()
    n += 50
    now = process.hrtime.bigint()
  }
  return n / (Number(now - start) / 1e9)
}

const certPem = readFileSync(signer.certPath)
const fmt = (r: number): string => `${Math.round(r).toLocaleString('en-US')}/s`.padStart(10)

for (const c of cases) {
  const xml = c.bytes.toString()
  const doc = XmlDocument.fromBuffer(c.bytes)
  const opts = { trust, at: new Date(), forms: ['xmldsig', 'xades-bes'] as ('xmldsig' | 'xades-bes')[], keys }
  if (verifyXmlSignature(doc, opts) === null) throw new Error('bench document is not signed')
  const verifyOnly = rate(() => verifyXmlSignature(doc, opts))
  const parseAndVerify = rate(() => {
    const d = XmlDocument.fromBuffer(c.bytes)
    try { return verifyXmlSignature(d, opts) } finally { d.dispose() }
  })
  const xmlCrypto = rate(() => {
    const d = new DOMParser().parseFromString(xml, 'text/xml')
    const sig = new SignedXml({ publicCert: certPem })
    sig.loadSignature(xpath.select1(`//*[local-name(.)='Signature' and namespace-uri(.)='${DS}']`, d as unknown as Node) as Node)
    if (!sig.checkSignature(xml)) throw new Error('xml-crypto refused the bench document')
  }, quick ? 300 : 1000)
  doc.dispose()
  console.log(`${c.name} (${c.bytes.length} bytes)`)
  console.log(`  egif-hub verify (document parsed upstream) ${fmt(verifyOnly)}`)
  console.log(`  egif-hub parse + verify                    ${fmt(parseAndVerify)}`)
  console.log(`  xml-crypto 6.3.2 (documented usage)        ${fmt(xmlCrypto)}`)
  console.log(`  ratio (parse + verify / xml-crypto)        ${(parseAndVerify / xmlCrypto).toFixed(1)}×`)
}
rmSync(dir, { recursive: true, force: true })
