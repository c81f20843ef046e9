import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ParseOption, XmlDocument, XmlEntityReference } from 'libxml2-wasm'
import { parseXml } from '../../src/xml/document.js'
import { scanXml } from '../../src/xml/scan.js'
import { isHubError } from '../../src/errors.js'

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8')
const SAMPLES = fileURLToPath(new URL('../../../shared/corpus/etda-etax-2.0/samples/', import.meta.url))

t.test('a well-formed document parses; the caller disposes it', async (t) => {
  const doc = parseXml(utf8('<?xml version="1.0" encoding="UTF-8"?>\n<r:Doc xmlns:r="urn:x"><r:a>ภาษี</r:a></r:Doc>'))
  t.equal(doc.root.name, 'Doc')
  t.equal(doc.root.prefix, 'r')
  t.equal(doc.root.namespaceUri, 'urn:x')
  t.equal(doc.get('/r:Doc/r:a', { r: 'urn:x' })?.content, 'ภาษี')
  doc.dispose()
})

t.test('libxml2 errors become EGIF_ERR_XML_MALFORMED with line:col', async (t) => {
  t.throws(() => parseXml(utf8('<a>\n<b></a>')), { code: 'EGIF_ERR_XML_MALFORMED', message: /^2:\d+: Opening and ending tag mismatch/ }, 'mismatched tags')
  t.throws(() => parseXml(utf8('<a>\n<b>')), { code: 'EGIF_ERR_XML_MALFORMED', message: /^\d+:\d+: / }, 'unclosed tag')
  t.throws(() => parseXml(utf8('<a/><b/>')), { code: 'EGIF_ERR_XML_MALFORMED', message: /Extra content/ }, 'two roots')
  t.throws(() => parseXml(utf8('<a>&undeclared;</a>')), { code: 'EGIF_ERR_XML_MALFORMED', message: /undeclared/ }, 'undeclared entity')
  t.throws(() => parseXml(utf8('<p:a/>')), { code: 'EGIF_ERR_XML_MALFORMED' }, 'undeclared prefix')
  t.throws(() => parseXml(utf8('<a b="1" b="2"/>')), { code: 'EGIF_ERR_XML_MALFORMED', message: /redefined/ }, 'repeated attribute')
  t.throws(() => parseXml(utf8('<a>&#xD800;</a>')), { code: 'EGIF_ERR_XML_MALFORMED' }, 'a surrogate by reference')
})

t.test('parseXml alone refuses DTDs, non-UTF-8 and never expands entities', async (t) => {
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') + ']><lolz>&lol9;</lolz>'
  t.throws(() => parseXml(utf8(laughs)), { code: /^EGIF_ERR_XML_(DOCTYPE|MALFORMED)$/ }, 'billion laughs')
  t.throws(() => parseXml(utf8('<!DOCTYPE a [<!ENTITY x "hello">]><a>&x;</a>')), { code: 'EGIF_ERR_XML_DOCTYPE' }, 'an internal subset')
  t.throws(() => parseXml(utf8('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>')), { code: 'EGIF_ERR_XML_DOCTYPE' }, 'an external entity')
  t.throws(() => parseXml(utf8('<!DOCTYPE a><a/>')), { code: 'EGIF_ERR_XML_DOCTYPE' }, 'a bare DOCTYPE')
  t.throws(() => parseXml(utf8('<?xml version="1.0" encoding="ISO-8859-1"?><a>x</a>')), { code: 'EGIF_ERR_XML_ENCODING' }, 'ISO-8859-1')
  t.throws(() => parseXml(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')])), { code: 'EGIF_ERR_ENCODING' }, 'UTF-16 by BOM')
  t.throws(() => parseXml(Buffer.from([0x3c, 0x61, 0x3e, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e])), { code: 'EGIF_ERR_ENCODING' }, 'an overlong sequence')
})

t.test('libxml2 with entity substitution off keeps references unexpanded, loads nothing, caps amplification', async (t) => {
  // The flags parseXml uses; this pins the libxml2 behaviour that the second line of defence relies on.
  const option = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_BIG_LINES
  const internal = XmlDocument.fromBuffer(utf8('<!DOCTYPE a [<!ENTITY x "hello">]><a>&x;</a>'), { option })
  t.ok(internal.root.firstChild instanceof XmlEntityReference, 'the tree holds a reference node, not the text "hello"')
  internal.dispose()
  const external = XmlDocument.fromBuffer(utf8('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'), { option })
  t.notMatch(external.root.content, /root:/, 'the external entity is not loaded')
  external.dispose()
  const laughs = '<!DOCTYPE l [<!ENTITY l0 "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('') + ']><l>&l9;</l>'
  t.throws(() => XmlDocument.fromBuffer(utf8(laughs), { option }), { message: /amplification/ }, 'libxml2 itself stops a billion laughs')
})

t.test('hostile shapes the scanner stops first also fail safely in libxml2', async (t) => {
  const deep = '<a>'.repeat(100_000) + '</a>'.repeat(100_000)
  t.throws(() => parseXml(utf8(deep)), { code: 'EGIF_ERR_XML_MALFORMED' }, 'depth 100,000: libxml2 has its own limit (256)')
})

t.test('the scanner and libxml2 agree on every corpus sample', async (t) => {
  for (const name of readdirSync(SAMPLES).filter((f) => f.endsWith('.xml')).sort()) {
    const bytes = readFileSync(SAMPLES + name)
    let scanned
    try {
      scanned = scanXml(bytes)
    } catch (err) {
      if (!isHubError(err)) throw err
      // The samples hold no hostile constructs: whatever the scanner refuses, libxml2 refuses too.
      t.match(err.code, /^EGIF_ERR_XML_(MALFORMED|MULTIPLE_ROOTS)$/, `${name}: refused as not well-formed`)
      t.throws(() => parseXml(bytes).dispose(), { code: 'EGIF_ERR_XML_MALFORMED' }, `${name}: both refuse (${err.code})`)
      continue
    }
    const doc = parseXml(bytes, { url: name })
    t.same([scanned.root.namespace, scanned.root.localName, scanned.root.prefix], [doc.root.namespaceUri, doc.root.name.replace(/^.*:/, ''), doc.root.prefix], `${name}: same root`)
    t.equal(scanned.elements, doc.find('//*').length, `${name}: same element count`)
    doc.dispose()
  }
})
