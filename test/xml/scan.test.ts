import t, { type Test } from 'tap'
import { scanXml } from '../../src/xml/scan.js'
import { DEFAULT_XML_LIMITS } from '../../src/xml/limits.js'
import type { ErrorCode } from '../../src/errors.js'

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8')

function refused (t: Test, doc: Uint8Array | string, code: ErrorCode, name: string, limits = {}): void {
  const bytes = typeof doc === 'string' ? utf8(doc) : doc
  t.throws(() => scanXml(bytes, limits), { name: 'HubError', code }, name)
}

t.test('a plain document: root, namespace, counts', async (t) => {
  const s = scanXml(utf8('<?xml version="1.0" encoding="UTF-8"?>\n<r:Doc xmlns:r="urn:x:doc" id="1"><r:a/><b>t</b></r:Doc>\n'))
  t.same(s, { start: 0, root: { prefix: 'r', localName: 'Doc', namespace: 'urn:x:doc' }, elements: 3, maxDepthSeen: 2 })
  t.same(scanXml(utf8('<Doc xmlns="urn:d"/>')).root, { prefix: '', localName: 'Doc', namespace: 'urn:d' }, 'default namespace, empty root')
  t.same(scanXml(utf8('<Doc/>')).root, { prefix: '', localName: 'Doc', namespace: '' }, 'no namespace')
  t.same(scanXml(utf8('<p:Doc xmlns="urn:default" xmlns:p="urn:&#x61;&amp;b"/>')).root.namespace, 'urn:a&b', 'references in xmlns are decoded')
  refused(t, '<p:Doc xmlns:q="urn:q"/>', 'EGIF_ERR_XML_MALFORMED', 'the root prefix must be declared on the root')
})

t.test('a UTF-8 byte order mark is accepted and reported', async (t) => {
  const s = scanXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('<?xml version="1.0"?><a/>')]))
  t.equal(s.start, 3)
  t.equal(s.root.localName, 'a')
})

t.test('DOCTYPE and entity declarations are refused', async (t) => {
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') + ']><lolz>&lol9;</lolz>'
  refused(t, laughs, 'EGIF_ERR_XML_DOCTYPE', 'billion laughs')
  refused(t, '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', 'EGIF_ERR_XML_DOCTYPE', 'external entity')
  refused(t, '<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><a/>', 'EGIF_ERR_XML_DOCTYPE', 'parameter entity')
  refused(t, '<!DOCTYPE a><a/>', 'EGIF_ERR_XML_DOCTYPE', 'DOCTYPE without an internal subset')
  refused(t, '<!DOCTYPE a SYSTEM "a.dtd"><a/>', 'EGIF_ERR_XML_DOCTYPE', 'DOCTYPE with an external subset')
  refused(t, '<?xml version="1.0"?>\n<!-- a comment first -->\n<!DOCTYPE a><a/>', 'EGIF_ERR_XML_DOCTYPE', 'DOCTYPE hidden after a comment')
  refused(t, '<!doctype a><a/>', 'EGIF_ERR_XML_DOCTYPE', 'lower-case doctype')
  refused(t, '<a><!ENTITY x "y"></a>', 'EGIF_ERR_XML_DOCTYPE', '<!ENTITY inside the root')
  refused(t, '<a/><!DOCTYPE a>', 'EGIF_ERR_XML_DOCTYPE', 'DOCTYPE after the root')
  refused(t, '<a><!ATTLIST a b CDATA "c"></a>', 'EGIF_ERR_XML_DOCTYPE', 'other markup declarations')
})

t.test('DOCTYPE and ">" inside comments, CDATA and attribute values are text, not markup', async (t) => {
  t.equal(scanXml(utf8('<!-- <!DOCTYPE a [<!ENTITY x "y">]> --><a/>')).root.localName, 'a', 'in a comment before the root')
  t.equal(scanXml(utf8('<a><!-- <!DOCTYPE a> <?pi?> --></a>')).elements, 1, 'in a comment inside the root')
  t.equal(scanXml(utf8('<a><![CDATA[<!DOCTYPE a [<!ENTITY x "y">]> <b> <?pi?> &#1;]]></a>')).elements, 1, 'in CDATA')
  const s = scanXml(utf8('<a t="<!DOCTYPE a>" u=\'>\' v="/>"><b/></a>'.replace('"<!DOCTYPE a>"', '"&lt;!DOCTYPE a&gt;"')))
  t.same([s.elements, s.maxDepthSeen], [2, 2], 'escaped markup and ">" in attribute values')
  t.equal(scanXml(utf8('<a t="x>y"><b/></a>')).elements, 2, 'a raw ">" in a value does not end the tag')
  refused(t, '<a t="<!DOCTYPE a>"/>', 'EGIF_ERR_XML_MALFORMED', 'a raw "<" in a value is not well-formed XML')
})

t.test('depth is bounded, without recursion', async (t) => {
  const nest = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n)
  t.equal(scanXml(utf8(nest(64))).maxDepthSeen, 64, 'the default limit itself is allowed')
  refused(t, nest(65), 'EGIF_ERR_XML_TOO_DEEP', 'one more is refused')
  refused(t, nest(100_000), 'EGIF_ERR_XML_TOO_DEEP', 'depth 100,000 fails fast')
  refused(t, '<a>'.repeat(100_000), 'EGIF_ERR_XML_TOO_DEEP', 'unclosed depth 100,000')
  refused(t, nest(5), 'EGIF_ERR_XML_TOO_DEEP', 'a configured limit', { maxDepth: 4 })
  t.equal(scanXml(utf8('<a><b/><b/></a>'), { maxDepth: 2 }).maxDepthSeen, 2, 'empty elements count at their depth')
  refused(t, '<a><b/></a>', 'EGIF_ERR_XML_TOO_DEEP', 'an empty element past the limit', { maxDepth: 1 })
})

t.test('attributes per element are bounded, xmlns included', async (t) => {
  const attrs = (n: number): string => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('')
  t.equal(scanXml(utf8(`<a xmlns="urn:a"${attrs(DEFAULT_XML_LIMITS.maxAttributes - 1)}/>`)).elements, 1, '64 with the xmlns')
  refused(t, `<a xmlns="urn:a"${attrs(DEFAULT_XML_LIMITS.maxAttributes)}/>`, 'EGIF_ERR_XML_TOO_MANY_ATTRIBUTES', '65 with the xmlns')
  refused(t, `<a><b${attrs(10_000)}/></a>`, 'EGIF_ERR_XML_TOO_MANY_ATTRIBUTES', '10,000 attributes')
})

t.test('elements per document are bounded', async (t) => {
  refused(t, '<r>' + '<a/>'.repeat(1_000_000) + '</r>', 'EGIF_ERR_XML_TOO_MANY_NODES', '1,000,000 tiny elements')
  t.equal(scanXml(utf8('<r>' + '<a/>'.repeat(9) + '</r>'), { maxElements: 10 }).elements, 10, 'exactly the limit')
  refused(t, '<r>' + '<a/>'.repeat(10) + '</r>', 'EGIF_ERR_XML_TOO_MANY_NODES', 'one over a configured limit', { maxElements: 10 })
})

t.test('size is bounded', async (t) => {
  refused(t, '<a>' + 'x'.repeat(100) + '</a>', 'EGIF_ERR_BODY_TOO_LARGE', 'over maxBytes', { maxBytes: 100 })
  t.equal(scanXml(utf8('<a>' + 'x'.repeat(93) + '</a>'), { maxBytes: 100 }).elements, 1, 'exactly maxBytes')
})

t.test('one root, nothing but white space and comments around it', async (t) => {
  refused(t, '<a/><b/>', 'EGIF_ERR_XML_MULTIPLE_ROOTS', 'two roots')
  refused(t, '<a></a>\n<a></a>', 'EGIF_ERR_XML_MULTIPLE_ROOTS', 'two roots with white space between')
  refused(t, '<a/>text', 'EGIF_ERR_XML_MALFORMED', 'text after the root')
  refused(t, 'text<a/>', 'EGIF_ERR_XML_MALFORMED', 'text before the root')
  refused(t, '', 'EGIF_ERR_XML_MALFORMED', 'an empty document')
  refused(t, '<!-- only a comment -->', 'EGIF_ERR_XML_MALFORMED', 'no root element')
  refused(t, '<a/><![CDATA[x]]>', 'EGIF_ERR_XML_MALFORMED', 'CDATA after the root')
  t.equal(scanXml(utf8(' \r\n\t<!-- c --><a/><!-- c -->\n ')).elements, 1, 'white space and comments on both sides')
})

t.test('unclosed and broken markup', async (t) => {
  refused(t, '<a><b></b>', 'EGIF_ERR_XML_MALFORMED', 'unclosed root')
  refused(t, '<a><b', 'EGIF_ERR_XML_MALFORMED', 'unclosed start tag')
  refused(t, '<a t="x></a>', 'EGIF_ERR_XML_MALFORMED', 'unclosed attribute value')
  refused(t, '<a><!-- x </a>', 'EGIF_ERR_XML_MALFORMED', 'unclosed comment')
  refused(t, '<a><![CDATA[ x </a>', 'EGIF_ERR_XML_MALFORMED', 'unclosed CDATA')
  refused(t, '<a t=x/>', 'EGIF_ERR_XML_MALFORMED', 'unquoted attribute')
  refused(t, '<a><!-- a -- b --></a>', 'EGIF_ERR_XML_MALFORMED', '"--" inside a comment')
  refused(t, '<a>&#xZZ;</a>', 'EGIF_ERR_XML_MALFORMED', 'bad character reference')
  refused(t, '<a>&#x110000;</a>', 'EGIF_ERR_XML_MALFORMED', 'character reference beyond Unicode')
  // Tag names are libxml2's to match (test/xml/document.test.ts); the scanner only counts.
  t.equal(scanXml(utf8('<a><b></a></b>')).elements, 2, 'mismatched names pass the scanner')
})

t.test('C0 control characters are refused, raw or as references', async (t) => {
  refused(t, '<a>&#x1;</a>', 'EGIF_ERR_XML_CONTROL_CHAR', '&#x1;')
  refused(t, '<a>&#1;</a>', 'EGIF_ERR_XML_CONTROL_CHAR', '&#1;')
  refused(t, '<a>&#0;</a>', 'EGIF_ERR_XML_CONTROL_CHAR', '&#0;')
  refused(t, '<a>&#x1F;</a>', 'EGIF_ERR_XML_CONTROL_CHAR', '&#x1F;')
  refused(t, '<a t="&#x1b;"/>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a reference in an attribute')
  refused(t, '<a>\u0001</a>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a raw 0x01')
  refused(t, '<a t="\u0000"/>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a raw NUL in an attribute')
  refused(t, '<a><!-- \u0008 --></a>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a raw 0x08 in a comment')
  refused(t, '<a><![CDATA[\u000b]]></a>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a raw 0x0B in CDATA')
  refused(t, '\u0001<a/>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a raw 0x01 before the root')
  t.equal(scanXml(utf8('<a t="&#9;&#10;&#13;">\t\r\n&#x9;&#xA;&#xD;&#x7F;\u007f</a>')).elements, 1, 'tab, LF, CR and DEL are allowed')
})

t.test('long text is read four bytes a step: what ends or breaks it is found at every position', async (t) => {
  // Text runs are skipped four bytes at a time while all four are plain; the byte that is not
  // plain must be found wherever it falls in a step, and in the tail shorter than a step.
  for (let at = 0; at < 9; at++) {
    const text = (c: string): string => 'x'.repeat(at) + c + 'y'.repeat(11 - at)
    refused(t, `<a>${text('\u0001')}</a>`, 'EGIF_ERR_XML_CONTROL_CHAR', `a control character after ${at} bytes of text`)
    t.equal(scanXml(utf8(`<a>${text('<b/>')}</a>`)).elements, 2, `a start tag after ${at} bytes of text`)
    t.equal(scanXml(utf8(`<a>${text('&amp;')}</a>`)).elements, 1, `a reference after ${at} bytes of text`)
    refused(t, `<a>${text('&#1;')}</a>`, 'EGIF_ERR_XML_CONTROL_CHAR', `a control reference after ${at} bytes of text`)
    refused(t, `<a>${'z'.repeat(at)}`, 'EGIF_ERR_XML_MALFORMED', `the document ending after ${at} bytes of text`)
  }
  refused(t, '<a>text</a\u0001>', 'EGIF_ERR_XML_CONTROL_CHAR', 'a control character in an end tag')
  refused(t, '<a>text</a <b>', 'EGIF_ERR_XML_MALFORMED', 'an end tag cut short by "<"')
  t.equal(scanXml(utf8('<a><b>t</b  ></a >')).elements, 2, 'white space before ">" in end tags')
})

t.test('only UTF-8', async (t) => {
  refused(t, '<?xml version="1.0" encoding="UTF-16"?><a/>', 'EGIF_ERR_XML_ENCODING', 'a UTF-16 declaration')
  refused(t, '<?xml version="1.0" encoding="ISO-8859-1"?><a/>', 'EGIF_ERR_XML_ENCODING', 'an ISO-8859-1 declaration')
  refused(t, Buffer.concat([utf8('<?xml version="1.0" encoding=\'TIS-620\'?><a>'), Buffer.from([0xa1]), utf8('</a>')]), 'EGIF_ERR_XML_ENCODING', 'a TIS-620 document that says so')
  refused(t, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a/>', 'utf16le')]), 'EGIF_ERR_ENCODING', 'UTF-16 bytes with a BOM')
  t.equal(scanXml(utf8('<?xml version="1.0" encoding="utf-8" standalone="yes"?><a/>')).elements, 1, 'utf-8 in lower case')
  const bad: Array<[string, number[]]> = [
    ['a stray continuation byte', [0x80]],
    ['an invalid byte', [0xff]],
    ['a truncated sequence', [0xe0, 0xb8]],
    ['overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['overlong 3-byte (E0 80 AF)', [0xe0, 0x80, 0xaf]],
    ['overlong 4-byte (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]],
    ['an encoded surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]]
  ]
  for (const [name, bytes] of bad) {
    refused(t, Buffer.concat([utf8('<a>'), Buffer.from(bytes), utf8('</a>')]), 'EGIF_ERR_ENCODING', name)
  }
  t.equal(scanXml(utf8('<ใบกำกับภาษี ชื่อ="ก">ภาษีมูลค่าเพิ่ม 😀</ใบกำกับภาษี>')).root.localName, 'ใบกำกับภาษี', 'Thai names and text, 4-byte characters')
})

t.test('processing instructions: accepted between markup, refused where they split text', async (t) => {
  const prolog = '<?xml version="1.0"?><?xml-model href="a.sch" type="application/xml"?><!-- c -->\n<?xml-stylesheet href="x.xsl"?><a/>'
  t.equal(scanXml(utf8(prolog)).root.localName, 'a', 'before the root (ETDA production documents carry <?xml-model?>)')
  t.equal(scanXml(utf8('<a/>\n<?x?>\n')).root.localName, 'a', 'after the root')
  t.equal(scanXml(utf8('<a>\n  <b>1</b>\n  <?xml-model href="s.sch"?>\n  <c/>\n</a>')).elements, 3, 'between elements, white space around it')
  t.equal(scanXml(utf8('<a><?x?><?y?></a>')).elements, 1, 'two in a row, between tags')
  refused(t, '<a>1<?x ?>00</a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'splitting text')
  refused(t, '<a>100<?x ?></a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'after text')
  refused(t, '<a><?x ?>100</a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'before text')
  refused(t, '<a>&#49;<?x ?></a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'after a character reference')
  refused(t, '<a><![CDATA[1]]><?x ?></a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'after CDATA')
  refused(t, '<a><?x ?><![CDATA[1]]></a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'before CDATA')
  refused(t, '<a>1<!--c--><?x ?></a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'after text and a comment')
  refused(t, ' <?xml version="1.0"?><a/>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'a declaration not at the very start')
  refused(t, '<?xml version="1.0"?><?xml version="1.0"?><a/>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'a second declaration')
  refused(t, '<?xml version="1.0"?><?XML version="1.0"?><a/>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'the reserved target in any case')
  refused(t, '<a><?xml version="1.0"?></a>', 'EGIF_ERR_XML_PROCESSING_INSTRUCTION', 'a declaration inside the root')
  refused(t, '<?x \u0001?><a/>', 'EGIF_ERR_XML_CONTROL_CHAR', 'its content is checked')
  refused(t, '<?x <a/>', 'EGIF_ERR_XML_MALFORMED', 'an unclosed one')
})

t.test('limits must be positive integers', async (t) => {
  t.throws(() => scanXml(utf8('<a/>'), { maxDepth: 0 }), { code: 'EGIF_ERR_INTERNAL' })
  t.throws(() => scanXml(utf8('<a/>'), { maxElements: 1.5 }), { code: 'EGIF_ERR_INTERNAL' })
  t.equal(scanXml(utf8('<a/>'), { maxDepth: undefined }).elements, 1, 'undefined keeps the default')
})
