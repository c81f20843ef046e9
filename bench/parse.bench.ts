import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { XMLParser } from 'fast-xml-parser'
import { scanXml } from '../src/xml/scan.js'
import { parseXml } from '../src/xml/document.js'
import { XsdSchema } from '../src/xml/xsd.js'
import { parseJson } from '../src/json/parse.js'

/**
 * `node --import tsx bench/parse.bench.ts [--quick]`: the parsing layer, each beside its
 * baseline in one run. XML: the ETDA e-Tax sample INV71600001.xml (5.9 KB) from the shared
 * corpus, compared with fast-xml-parser (the non-validating parser DESIGN §6 measures).
 * JSON: a 2 KB document, compared with JSON.parse.
 */
const quick = process.argv.includes('--quick')
const ms = quick ? 300 : 1500
const corpus = fileURLToPath(new URL('../../shared/corpus/etda-etax-2.0/', import.meta.url))
const xml = readFileSync(corpus + 'samples/INV71600001.xml')
const xsd = XsdSchema.compile(corpus + 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd')

const jsonDoc = JSON.stringify({
  documentType: 'personnel-record-transfer',
  person: { citizenId: '1101700000000', name: { th: 'สมชาย ใจดี', en: 'Somchai Jaidee' }, position: 'นักวิเคราะห์นโยบายและแผน', level: 'ชำนาญการ' },
  history: Array.from({ length: 24 }, (_, i) => ({ year: 2550 + i, unit: `กอง ${i}`, salary: 15000 + i * 1234.5, remark: i % 3 === 0 ? null : 'ปกติ' })),
  flags: [true, false, true]
})
const json = Buffer.from(jsonDoc)

let sink = 0
function bench (name: string, fn: () => unknown): number {
  for (const end = Date.now() + ms / 5; Date.now() < end;) fn() // warm up
  let ops = 0
  const start = process.hrtime.bigint()
  const end = Date.now() + ms
  while (Date.now() < end) {
    for (let i = 0; i < 50; i++) { fn(); sink++ }
    ops += 50
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9
  const rate = ops / s
  console.log(`${name.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ops/s  ${(1e6 / rate).toFixed(2).padStart(9)} µs/op`)
  return rate
}

console.log(`XML: INV71600001.xml, ${xml.length} bytes · JSON: ${json.length} bytes · ${ms} ms per row\n`)
const fxp = new XMLParser({ ignoreAttributes: false })
bench('scanXml', () => scanXml(xml))
bench('parseXml (libxml2) + dispose', () => parseXml(xml).dispose())
bench('scanXml + parseXml', () => { scanXml(xml); parseXml(xml).dispose() })
bench('scan + parse + XSD validate (TaxInvoice)', () => {
  scanXml(xml)
  const doc = parseXml(xml)
  try { return xsd.validate(doc) } finally { doc.dispose() }
})
bench('baseline: fast-xml-parser parse', () => fxp.parse(xml))
console.log('')
bench('parseJson (strict)', () => parseJson(json))
bench('baseline: JSON.parse(bytes.toString())', () => JSON.parse(json.toString('utf8')))
xsd.dispose()
if (sink < 0) console.log(sink)
