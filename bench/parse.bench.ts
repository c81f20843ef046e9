import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { XMLParser } from 'fast-xml-parser'
import { scanXml } from '../src/xml/scan.js'
import { parseXml } from '../src/xml/document.js'
import { XsdSchema } from '../src/xml/xsd.js'
import { parseJson } from '../src/json/parse.js'
import { cpuPerOp, type Row } from './lib/cpu-per-op.js'

/**
 * `node --import tsx bench/parse.bench.ts [--quick]`: the parsing layer, each beside its
 * baseline in one run. XML: the 5 KB gov-letter sample of scenario (a) with its XSD, and the ETDA
 * e-Tax sample INV71600001.xml (5.9 KB) of scenario (b) with the TaxInvoice XSD, compared with
 * fast-xml-parser (the non-validating parser DESIGN §6 measures). JSON: a 2 KB document, compared
 * with JSON.parse.
 *
 * Figures are CPU time per operation (user + system of this process), the least over many short
 * rounds: on a machine shared with other work, wall-clock rates say more about the neighbours
 * than about the code. The rate is what one core would do at that cost.
 */
const quick = process.argv.includes('--quick')
const rounds = quick ? 8 : 30
const roundMs = quick ? 5 : 10
const root = fileURLToPath(new URL('../', import.meta.url))
const corpus = fileURLToPath(new URL('../../shared/corpus/etda-etax-2.0/', import.meta.url))

const jsonDoc = JSON.stringify({
  documentType: 'personnel-record-transfer',
  person: { citizenId: '1101700000000', name: { th: 'สมชาย ใจดี', en: 'Somchai Jaidee' }, position: 'นักวิเคราะห์นโยบายและแผน', level: 'ชำนาญการ' },
  history: Array.from({ length: 24 }, (_, i) => ({ year: 2550 + i, unit: `กอง ${i}`, salary: 15000 + i * 1234.5, remark: i % 3 === 0 ? null : 'ปกติ' })),
  flags: [true, false, true]
})
const json = Buffer.from(jsonDoc)


function report (title: string, rows: Row[]): void {
  console.log(title)
  const us = cpuPerOp(rows, { rounds, roundMs })
  rows.forEach(([name], i) => {
    console.log(`  ${name.padEnd(44)} ${us[i].toFixed(1).padStart(8)} µs CPU  ${Math.round(1e6 / us[i]).toLocaleString('en-US').padStart(9)} /s per core`)
  })
  console.log('')
}

const fxp = new XMLParser({ ignoreAttributes: false })
const xmlCases = [
  { title: '(a) gov-letter with-attachments-5kb.xml', bytes: readFileSync(root + 'schemas/gov-letter/samples/valid/with-attachments-5kb.xml'), xsd: XsdSchema.compile(root + 'schemas/gov-letter/gov-letter-1.0.xsd') },
  { title: '(b) e-Tax INV71600001.xml', bytes: readFileSync(corpus + 'samples/INV71600001.xml'), xsd: XsdSchema.compile(corpus + 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd') }
]
for (const c of xmlCases) {
  const doc = parseXml(c.bytes)
  if (c.xsd.validate(doc).length > 0) throw new Error(`${c.title} does not validate`)
  report(`${c.title}, ${c.bytes.length} bytes`, [
    ['scanXml', () => scanXml(c.bytes)],
    ['parseXml (libxml2) + dispose', () => parseXml(c.bytes).dispose()],
    ['XSD validate (document parsed upstream)', () => c.xsd.validate(doc)],
    ['scan + parse + XSD validate + dispose', () => {
      scanXml(c.bytes)
      const d = parseXml(c.bytes)
      try { return c.xsd.validate(d) } finally { d.dispose() }
    }]
  ])
  report('  baseline', [['fast-xml-parser parse', () => fxp.parse(c.bytes)]])
  doc.dispose()
  c.xsd.dispose()
}
report(`JSON, ${json.length} bytes`, [
  ['parseJson (strict)', () => parseJson(json)],
  ['baseline: JSON.parse(bytes.toString())', () => JSON.parse(json.toString('utf8'))]
])
