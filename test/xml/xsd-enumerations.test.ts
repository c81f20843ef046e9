import t, { type Test } from 'tap'
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ParseOption, XmlDocument, XmlValidateError, XsdValidator } from 'libxml2-wasm'
import { XsdSchema } from '../../src/xml/xsd.js'
import { parseXml } from '../../src/xml/document.js'
import { enumerationPattern } from '../../src/xml/xsd-enumerations.js'
import { tmpDir } from '../helpers/tmp.js'

/*
 * A large code list is compiled as a pattern (src/xml/xsd-enumerations.ts). These tests hold the
 * rewritten schema to libxml2's own answer for the schema as written, value by value: libxml2-wasm's
 * XsdValidator on the unmodified schema document is the reference.
 */

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/etda-etax-2.0/', import.meta.url))
const XSD_OPTIONS = ParseOption.XML_PARSE_NOENT | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_NONET

interface Verdict { line: number, message: string }

/** libxml2's own validator for the schema exactly as written, without the rewrite. */
function reference (t: Test, schemaText: string): (doc: XmlDocument) => Map<number, string> {
  const source = XmlDocument.fromString(schemaText, { option: XSD_OPTIONS })
  const validator = XsdValidator.fromDoc(source)
  t.teardown(() => { validator.dispose(); source.dispose() })
  return (doc) => {
    try {
      validator.validate(doc)
      return new Map()
    } catch (err) {
      if (!(err instanceof XmlValidateError)) throw err
      return new Map(err.details.filter((d) => d.level >= 2).map((d) => [d.line, d.message.trim()]))
    }
  }
}

function ours (xsd: XsdSchema, doc: XmlDocument): Map<number, string> {
  return new Map(xsd.validate(doc).map((i: Verdict) => [i.line, i.message]))
}

// XsdSchema lists 100 issues at most, so the probes go in documents of fewer lines.
const PER_DOCUMENT = 90

/** One probe per line, so both verdicts can be compared line by line. */
function probeDocument (ns: string, probes: string[]): XmlDocument {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;')
  return parseXml(Buffer.from(`<p:probes xmlns:p="${ns}">\n${probes.map((v) => `<p:probe>${esc(v)}</p:probe>`).join('\n')}\n</p:probes>`))
}
const lineOf = (i: number): number => i + 2

/** Values near each given one: what a typo, a truncation or stray white space makes of it. */
function mutations (values: string[]): string[] {
  const out = new Set<string>(['', ' ', 'x', '\u0E01', '0', '999999'])
  for (const v of values) {
    out.add(v + '0')
    out.add(v.slice(0, -1))
    out.add(v.slice(1))
    out.add(` ${v} `)
    out.add(`\t${v}\n`)
    out.add(v.toLowerCase())
    out.add(v.toUpperCase())
    out.add(v.replace(' ', '  '))
    out.add(v.replace(' ', '\t'))
    out.add(v + '\u0E01')
  }
  return [...out]
}

function compare (t: Test, name: string, asWritten: (doc: XmlDocument) => Map<number, string>, xsd: XsdSchema, ns: string, probes: string[]): void {
  let agree = 0
  let refused = 0
  for (let from = 0; from < probes.length; from += PER_DOCUMENT) {
    const chunk = probes.slice(from, from + PER_DOCUMENT)
    const doc = probeDocument(ns, chunk)
    const want = asWritten(doc)
    const got = ours(xsd, doc)
    doc.dispose()
    refused += want.size
    for (const [i, probe] of chunk.entries()) {
      const line = lineOf(i)
      if (want.has(line) !== got.has(line)) {
        t.fail(`${name}: ${JSON.stringify(probe)} is ${want.has(line) ? 'refused' : 'accepted'} as written but ${got.has(line) ? 'refused' : 'accepted'} compiled`)
        continue
      }
      agree++
      const w = want.get(line)
      const g = got.get(line)
      // libxml2's message lists every value; ours the first ten and how many there are.
      if (w !== undefined && g !== undefined && w !== g && !g.startsWith(nthValueEnd(w, 10))) {
        t.fail(`${name}: message for ${JSON.stringify(probe)}:\n  ${g.slice(0, 300)}\nis not\n  ${w.slice(0, 300)}`)
      }
    }
  }
  t.equal(agree, probes.length, `${name}: ${probes.length} values get libxml2's verdict on the schema as written (${refused} refused)`)
}

/** The message up to and including the nth listed value (`'a', 'b'` …). */
function nthValueEnd (message: string, n: number): string {
  const start = message.indexOf('{')
  let at = start
  for (let k = 0; k < n; k++) {
    const open = message.indexOf("'", at + 1)
    const close = message.indexOf("'", open + 1)
    if (open < 0 || close < 0) return message
    at = close
  }
  return message.slice(0, at + 1)
}

t.test('the pattern of a value set matches exactly that set', async (t) => {
  t.equal(enumerationPattern(['a', 'ab', 'abc']), 'a(b(c)?)?')
  t.equal(enumerationPattern(['10', '11', '12', '13', '20']), '(1[0-3]|20)')
  t.equal(enumerationPattern(['', 'a']), '(a)?', 'the empty value')
  t.equal(enumerationPattern(['a.b', 'a|b', 'a-b', 'a^b']), 'a[\\-\\.\\^\\|]b', 'meta characters are escaped, in classes too')
  t.equal(enumerationPattern(['x😀', 'x😁']), 'x[😀😁]', 'characters beyond the BMP are one character each')
})

const XS = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'
const TRICKY = [
  '', 'a', 'ab', 'abc', 'abd', 'a b', 'a.b', 'a|b', '(x)', '1+1', '[y]', '{z}', 'q?', 's*', 'back\\slash', 'ca^ret', 'da-sh', 'ends-',
  '-starts', 'ไทย', 'ไทยแลนด์', 'กรุงเทพ', 'x😀', 'x😁', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', "it's", '&', '<', '%',
  '100', '101', '102', '110', '1000'
]

for (const base of ['token', 'string', 'normalizedString']) {
  t.test(`a code list of xs:${base} with meta characters, prefixes, Thai and the empty value`, async (t) => {
    const dir = tmpDir(t)
    const values = TRICKY
    const attr = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;')
    const text = `<xs:schema ${XS} targetNamespace="urn:t" xmlns:p="urn:t" elementFormDefault="qualified">
  <xs:simpleType name="Code"><xs:annotation><xs:documentation>a code list</xs:documentation></xs:annotation>
    <xs:restriction base="xs:${base}">${values.map((v) => `\n      <xs:enumeration value="${attr(v)}"><xs:annotation><xs:documentation>${attr(v)}</xs:documentation></xs:annotation></xs:enumeration>`).join('')}
    </xs:restriction>
  </xs:simpleType>
  <xs:element name="probes"><xs:complexType><xs:sequence><xs:element name="probe" type="p:Code" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>`
    writeFileSync(join(dir, 'codes.xsd'), text)
    const xsd = XsdSchema.compile(join(dir, 'codes.xsd'))
    t.teardown(() => { xsd.dispose() })
    compare(t, `xs:${base}`, reference(t, text), xsd, 'urn:t', [...values, ...mutations(values)])
    const doc = probeDocument('urn:t', ['nope'])
    t.match(xsd.validate(doc)[0].message, /\[facet 'enumeration'\] The value 'nope' is not an element of the set \{'', 'a', 'ab', .*, … \(\d+ values of \{urn:t\}Code\)\}\.$/, 'the refusal speaks of the code list')
    doc.dispose()
  })
}

t.test('restrictions the rewrite must leave alone still mean what they say', async (t) => {
  const dir = tmpDir(t)
  const many = Array.from({ length: 40 }, (_, i) => `V${i}`)
  const enums = many.map((v) => `<xs:enumeration value="${v}"/>`).join('')
  const text = `<xs:schema ${XS} targetNamespace="urn:t" xmlns:p="urn:t" elementFormDefault="qualified">
  <xs:simpleType name="WithPattern"><xs:restriction base="xs:token">${enums}<xs:pattern value="V1.*"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="WithLength"><xs:restriction base="xs:token">${enums}<xs:maxLength value="2"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Spaced"><xs:restriction base="xs:string">${enums}<xs:enumeration value=" V99"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Numbers"><xs:restriction base="xs:decimal">${Array.from({ length: 40 }, (_, i) => `<xs:enumeration value="${i}.0"/>`).join('')}</xs:restriction></xs:simpleType>
  <xs:simpleType name="Narrower"><xs:restriction base="p:Big"><xs:enumeration value="V1"/><xs:enumeration value="V2"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Big"><xs:restriction base="xs:token">${enums}</xs:restriction></xs:simpleType>
  <xs:element name="probes"><xs:complexType><xs:sequence>
    <xs:element name="probe" maxOccurs="unbounded"><xs:complexType><xs:simpleContent><xs:extension base="xs:string">
      <xs:attribute name="a" type="p:WithPattern"/><xs:attribute name="b" type="p:WithLength"/><xs:attribute name="c" type="p:Spaced"/>
      <xs:attribute name="d" type="p:Numbers"/><xs:attribute name="e" type="p:Narrower"/><xs:attribute name="f" type="p:Big"/>
    </xs:extension></xs:simpleContent></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>`
  writeFileSync(join(dir, 'alone.xsd'), text)
  const xsd = XsdSchema.compile(join(dir, 'alone.xsd'))
  t.teardown(() => { xsd.dispose() })
  const lines: string[] = []
  for (const attr of ['a', 'b', 'c', 'd', 'e', 'f']) {
    for (const v of ['V1', 'V12', 'V2', 'V3', ' V99', 'V99', '1', '1.00', '01', '39', '40', 'V', ' V1 ']) lines.push(`<p:probe ${attr}="${v}"/>`)
  }
  const doc = parseXml(Buffer.from(`<p:probes xmlns:p="urn:t">\n${lines.join('\n')}\n</p:probes>`))
  const want = reference(t, text)(doc)
  const got = ours(xsd, doc)
  t.same([...got.keys()].sort((a, b) => a - b), [...want.keys()].sort((a, b) => a - b), `the same ${want.size} of ${lines.length} attributes are refused`)
  doc.dispose()
})

/** The code lists of the ETDA corpus large enough to be rewritten, each with its one type. */
function corpusCodeLists (): Array<{ file: string, text: string, ns: string, type: string, values: string[] }> {
  const out = []
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)])
  for (const file of walk(join(CORPUS, 'schemas')).filter((f) => f.endsWith('.xsd'))) {
    const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '')
    const values = [...text.matchAll(/<xsd:enumeration value="([^"]*)"/g)].map((m) => m[1])
    // __TISICitySubDivisionName_1p0.xsd is an older copy of the subdivision list that no schema imports
    if (values.length < 32 || file.split('/').pop()!.startsWith('__')) continue
    const types = [...text.matchAll(/<xsd:simpleType name="([^"]+)"/g)].map((m) => m[1])
    const ns = /targetNamespace="([^"]+)"/.exec(text)?.[1]
    if (types.length !== 1 || ns === undefined) continue
    out.push({ file, text, ns, type: types[0], values })
  }
  return out
}

t.test('every large ETDA and UN/CEFACT code list: each value and its near misses, as libxml2 judges the list as written', async (t) => {
  const dir = tmpDir(t)
  const lists = corpusCodeLists()
  t.ok(lists.length >= 14, `${lists.length} code lists of 32 values or more`)
  for (const list of lists) {
    const decl = `<xsd:element name="probes" xmlns:p="${list.ns}"><xsd:complexType><xsd:sequence><xsd:element name="probe" type="p:${list.type}" maxOccurs="unbounded"/></xsd:sequence></xsd:complexType></xsd:element>\n</xsd:schema>`
    const text = list.text.replace(/<\/xsd:schema>\s*$/, decl)
    const file = join(dir, list.file.split('/').pop()!)
    writeFileSync(file, text)
    const xsd = XsdSchema.compile(file)
    // The reference spends O(n²) building each message for a refused value of a long list (~0.4 s
    // for 8,936 values), so the longest lists get the near misses of three of their values, long
    // ones of a dozen, short ones of every seventh.
    const step = list.values.length > 5000 ? Math.ceil(list.values.length / 3) : list.values.length > 500 ? Math.ceil(list.values.length / 12) : 7
    const sample = list.values.filter((_, i) => i % step === 0 || i === list.values.length - 1)
    compare(t, list.file.slice(CORPUS.length), reference(t, text), xsd, list.ns, [...list.values, ...mutations(sample)])
    xsd.dispose()
  }
})

t.test('a refused code in the e-Tax invoice is named briefly, and costs little', async (t) => {
  const xsd = XsdSchema.compile(join(CORPUS, 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd'))
  t.teardown(() => { xsd.dispose() })
  const text = readFileSync(join(CORPUS, 'samples/INV71600001.xml'), 'utf8')
  const doc = parseXml(Buffer.from(text.replace('<ram:CitySubDivisionName>810401<', '<ram:CitySubDivisionName>810488<')))
  const issues = xsd.validate(doc)
  doc.dispose()
  t.equal(issues.length, 1)
  t.equal(issues[0].line, 42)
  t.match(issues[0].message, /CitySubDivisionName': \[facet 'enumeration'\] The value '810488' is not an element of the set \{'100101', '100102', .* … \(8936 values of \{urn:un:unece:uncefact:identifierlist:standard:CitySubDivisionNameFromTISI1099_2548\}CitySubDivisionNameCodeContentType\)\}\.$/)
  t.ok(issues[0].message.length < 1000, `${issues[0].message.length} characters, not the whole list`)
})
