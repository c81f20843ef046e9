import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XsdSchema } from '../../src/xml/xsd.js'
import { parseXml } from '../../src/xml/document.js'
import { scanXml } from '../../src/xml/scan.js'

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/etda-etax-2.0/', import.meta.url))

// libxml2's heap is a WebAssembly.Memory: it grows in 64 KiB pages, never shrinks, and Node
// counts it in process.memoryUsage().external. A cycle that leaks a parsed invoice (about 17 KiB
// of tree) grows it by tens of MiB over 2,000 cycles; one that disposes reuses the same pages.
const external = (): number => process.memoryUsage().external

t.test('2,000 scan + parse + validate cycles do not grow wasm memory', async (t) => {
  const xsd = XsdSchema.compile(join(CORPUS, 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd'))
  t.teardown(() => { xsd.dispose() })
  const valid = readFileSync(join(CORPUS, 'samples/INV71600001.xml'))
  const invalid = readFileSync(join(CORPUS, 'samples/INV71800003.xml'))
  const cycle = (bytes: Buffer): number => {
    scanXml(bytes)
    const doc = parseXml(bytes)
    try {
      return xsd.validate(doc).length
    } finally {
      doc.dispose()
    }
  }
  for (let i = 0; i < 200; i++) cycle(i % 2 === 0 ? valid : invalid) // let the heap reach its working size
  const before = external()
  let issues = 0
  for (let i = 0; i < 2000; i++) issues += cycle(i % 2 === 0 ? valid : invalid)
  const grown = external() - before
  t.equal(issues, 1000, 'every invalid document reported its issue')
  t.ok(grown < 2 * 1024 * 1024, `external memory grew by ${grown} bytes`)
})

t.test('a refused document leaves nothing behind', async (t) => {
  const broken = Buffer.from('<a>' + '<b>x</b>'.repeat(500) + '</c>')
  const attempt = (): string | undefined => {
    try {
      parseXml(broken).dispose()
      return undefined
    } catch (err) {
      return (err as { code?: string }).code
    }
  }
  for (let i = 0; i < 100; i++) attempt()
  const before = external()
  let refused = 0
  for (let i = 0; i < 2000; i++) if (attempt() === 'EGIF_ERR_XML_MALFORMED') refused++
  t.equal(refused, 2000, 'every attempt was refused as malformed')
  t.ok(external() - before < 2 * 1024 * 1024, 'external memory stayed flat')
})
