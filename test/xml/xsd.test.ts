import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ParseOption, XmlDocument } from 'libxml2-wasm'
import { XsdSchema } from '../../src/xml/xsd.js'
import { parseXml } from '../../src/xml/document.js'
import { tmpDir } from '../helpers/tmp.js'

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/etda-etax-2.0/', import.meta.url))
const TAX_INVOICE_XSD = join(CORPUS, 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd')
const sample = (name: string): Buffer => readFileSync(join(CORPUS, 'samples', name))

interface Expected {
  documentTypes: Record<string, { namespace: string, xsd: string }>
  samples: Record<string, string>
}
const expected = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as Expected

const XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'

t.test('e-Tax TaxInvoice: includes and imports from disk, one valid and one invalid sample', async (t) => {
  const xsd = XsdSchema.compile(TAX_INVOICE_XSD)
  t.teardown(() => { xsd.dispose() })
  t.equal(xsd.file, TAX_INVOICE_XSD)

  const valid = parseXml(sample('INV71600001.xml'))
  t.same(xsd.validate(valid), [], 'INV71600001.xml is valid')
  valid.dispose()

  const invalid = parseXml(sample('INV71800003.xml'))
  const issues = xsd.validate(invalid)
  invalid.dispose()
  t.equal(issues.length, 1, 'INV71800003.xml has one issue')
  t.equal(issues[0].line, 8, 'on line 8')
  t.match(issues[0].message, /GuidelineSpecifiedDocumentContextParameter': Missing child element/)
})

t.test('every corpus sample labelled accept or reject: schema gets that answer from its type\'s XSD', async (t) => {
  const schemas = new Map<string, XsdSchema>()
  for (const type of Object.values(expected.documentTypes)) schemas.set(type.namespace, XsdSchema.compile(join(CORPUS, type.xsd)))
  t.teardown(() => { for (const s of schemas.values()) s.dispose() })
  let checked = 0
  for (const [name, label] of Object.entries(expected.samples)) {
    const wantValid = label.startsWith('accept')
    if (!wantValid && label !== 'reject: schema') continue
    const doc = parseXml(sample(name))
    const xsd = schemas.get(doc.root.namespaceUri)
    if (xsd === undefined) throw new Error(`${name}: no schema for ${doc.root.namespaceUri}`)
    const issues = xsd.validate(doc)
    doc.dispose()
    if (wantValid) t.same(issues, [], `${name}: ${label}`)
    else t.ok(issues.length > 0 && issues.every((i) => i.line > 0 && i.message !== ''), `${name}: ${label} (${issues[0]?.message ?? 'no issue'})`)
    checked++
  }
  t.equal(checked, 15, 'nine accepted and six schema-rejected samples')
})

t.test('compile errors name the file and libxml2\'s message', async (t) => {
  const dir = tmpDir(t)
  const missing = join(dir, 'missing.xsd')
  t.throws(() => XsdSchema.compile(missing), { code: 'EGIF_ERR_SCHEMA_LOAD', message: new RegExp(`^${missing}: cannot read`) }, 'a missing file')
  writeFileSync(join(dir, 'broken.xsd'), `<xs:schema ${XS}><xs:element name="a"></xs:schema>`)
  t.throws(() => XsdSchema.compile(join(dir, 'broken.xsd')), { code: 'EGIF_ERR_SCHEMA_LOAD', message: /broken\.xsd: not well-formed XML: \d+:\d+: / }, 'not well-formed')
  writeFileSync(join(dir, 'bad-type.xsd'), `<xs:schema ${XS}><xs:element name="a" type="xs:nonsense"/></xs:schema>`)
  t.throws(() => XsdSchema.compile(join(dir, 'bad-type.xsd')), { code: 'EGIF_ERR_SCHEMA_LOAD', message: /bad-type\.xsd: not a usable XML Schema: .*nonsense/ }, 'an unknown type')
  writeFileSync(join(dir, 'bad-include.xsd'), `<xs:schema ${XS}><xs:include schemaLocation="nowhere.xsd"/><xs:element name="a" type="T"/></xs:schema>`)
  t.throws(() => XsdSchema.compile(join(dir, 'bad-include.xsd')), { code: 'EGIF_ERR_SCHEMA_LOAD', message: /nowhere\.xsd/ }, 'a missing include')
})

t.test('schema files may carry a DTD; nothing is fetched from the network, at compile or validate time', async (t) => {
  let requests = 0
  const server = createServer((_req, res) => { requests++; res.end(`<xs:schema ${XS}/>`) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const dir = tmpDir(t)
  mkdirSync(join(dir, 'common'))
  // Shaped like the W3C xmldsig schema as published: a PUBLIC DTD and an internal subset.
  writeFileSync(join(dir, 'common', 'types.xsd'), `<?xml version="1.0"?>
<!DOCTYPE schema PUBLIC "-//W3C//DTD XMLSCHEMA 200102//EN" "${base}/XMLSchema.dtd" [
  <!ENTITY t 'urn:test:types'>
]>
<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="&t;" elementFormDefault="qualified">
  <simpleType name="Code"><restriction base="string"><enumeration value="A"/></restriction></simpleType>
</schema>`)
  writeFileSync(join(dir, 'main.xsd'), `<xs:schema ${XS} xmlns:c="urn:test:types" targetNamespace="urn:test:main" xmlns="urn:test:main" elementFormDefault="qualified">
  <xs:import namespace="urn:test:types" schemaLocation="common/types.xsd"/>
  <xs:import namespace="urn:test:unused" schemaLocation="${base}/remote.xsd"/>
  <xs:element name="doc"><xs:complexType><xs:sequence><xs:element name="code" type="c:Code"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>`)
  const xsd = XsdSchema.compile(join(dir, 'main.xsd'))
  t.teardown(() => { xsd.dispose() })
  const ok = parseXml(Buffer.from(`<doc xmlns="urn:test:main" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:test:main ${base}/main.xsd"><code>A</code></doc>`))
  t.same(xsd.validate(ok), [], 'the entity from the imported schema\'s DTD was substituted')
  ok.dispose()
  const bad = parseXml(Buffer.from('<doc xmlns="urn:test:main">\n<code>B</code></doc>'))
  t.match(xsd.validate(bad), [{ line: 2, message: /not an element of the set/ }], 'the imported type applies')
  bad.dispose()
  t.equal(requests, 0, 'no request reached the server')
})

t.test('the file reader serves libxml2 only while a schema compiles', async (t) => {
  const dir = tmpDir(t)
  writeFileSync(join(dir, 'secret.txt'), 'top-secret')
  writeFileSync(join(dir, 's.xsd'), `<xs:schema ${XS}><xs:element name="a"/></xs:schema>`)
  XsdSchema.compile(join(dir, 's.xsd')).dispose() // registers the provider
  // Deliberately unsafe options: only the closed gate stands between the entity and the file.
  const unsafe = ParseOption.XML_PARSE_NOENT | ParseOption.XML_PARSE_DTDLOAD
  let content = ''
  try {
    const doc = XmlDocument.fromBuffer(Buffer.from(`<!DOCTYPE a [<!ENTITY x SYSTEM "${join(dir, 'secret.txt')}">]><a>&x;</a>`), { option: unsafe })
    content = doc.root.content
    doc.dispose()
  } catch { /* libxml2 reporting the entity as unloadable is fine too */ }
  t.notMatch(content, /top-secret/, 'the file was not read')
})

t.test('issues are capped and counted; dispose is idempotent and final', async (t) => {
  const dir = tmpDir(t)
  writeFileSync(join(dir, 'ints.xsd'), `<xs:schema ${XS}><xs:element name="r"><xs:complexType><xs:sequence>
    <xs:element name="i" type="xs:int" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element></xs:schema>`)
  const xsd = XsdSchema.compile(join(dir, 'ints.xsd'))
  const doc = parseXml(Buffer.from('<r>\n' + '<i>x</i>\n'.repeat(150) + '</r>'))
  const issues = xsd.validate(doc)
  t.equal(issues.length, 101, '100 issues and a count of the rest')
  t.same(issues.slice(0, 2).map((i) => i.line), [2, 3], 'each with its own line')
  t.same(issues[100], { line: 0, message: '50 more issues not listed' })
  xsd.dispose()
  xsd.dispose()
  t.throws(() => xsd.validate(doc), { code: 'EGIF_ERR_INTERNAL' }, 'validating after dispose')
  doc.dispose()
})
