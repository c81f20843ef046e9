import t, { type Test } from 'tap'
import { parseJson } from '../../src/json/parse.js'
import type { ErrorCode } from '../../src/errors.js'

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8')

function refused (t: Test, doc: string | Buffer, code: ErrorCode, name: string, limits = {}): void {
  t.throws(() => parseJson(typeof doc === 'string' ? utf8(doc) : doc, limits), { name: 'HubError', code }, name)
}

t.test('valid documents read exactly as JSON.parse reads them', async (t) => {
  const docs = [
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    ' \t\r\n[ 1 , -2.5e+3 , 0 , -0 , 0.000001 , 1E-7 , 123456789012345678901234567890 ] \n',
    '"top-level string"', '42', 'true', 'null', '[]', '{}', '[[],{}]',
    '{"thai":"ใบกำกับภาษี","emoji":"😀","esc":"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041\\u00e9\\u0e01\\ud83d\\ude00"}',
    '{"__proto__":{"polluted":true},"constructor":1,"toString":"x"}',
    '{"":"empty key","a b":"space"}',
    JSON.stringify({ invoice: { id: 'INV-1', lines: Array.from({ length: 20 }, (_, i) => ({ n: i, amount: i * 1.25, note: `line ${i}` })) } })
  ]
  for (const doc of docs) t.strictSame(parseJson(utf8(doc)), JSON.parse(doc), doc.slice(0, 40))
  const proto = parseJson(utf8('{"__proto__":{"polluted":true}}')) as Record<string, unknown>
  t.equal(Object.getPrototypeOf(proto), Object.prototype, '"__proto__" does not change the prototype')
  t.ok(Object.hasOwn(proto, '__proto__'), 'it is an own member, as with JSON.parse')
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted')
  t.ok(Object.is(parseJson(utf8('-0')), -0), '-0 stays -0')
})

t.test('a UTF-8 byte order mark is allowed once', async (t) => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf])
  t.same(parseJson(Buffer.concat([bom, utf8('{"a":1}')])), { a: 1 })
  refused(t, Buffer.concat([bom, bom, utf8('{"a":1}')]), 'EGIF_ERR_JSON_MALFORMED', 'two byte order marks')
  refused(t, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}', 'utf16le')]), 'EGIF_ERR_ENCODING', 'UTF-16')
})

t.test('invalid UTF-8 is refused', async (t) => {
  const bad: Array<[string, number[]]> = [
    ['an invalid byte', [0xff]], ['a lone continuation byte', [0x80]], ['a truncated sequence', [0xe0, 0xb8]],
    ['overlong "/"', [0xc0, 0xaf]], ['overlong 3-byte', [0xe0, 0x80, 0xaf]], ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]]
  ]
  for (const [name, bytes] of bad) refused(t, Buffer.concat([utf8('{"a":"'), Buffer.from(bytes), utf8('"}')]), 'EGIF_ERR_ENCODING', name)
})

t.test('duplicate keys are refused at any depth', async (t) => {
  refused(t, '{"a":1,"a":2}', 'EGIF_ERR_JSON_DUPLICATE_KEY', 'top level')
  refused(t, '{"x":{"y":[{"k":1,"k":1}]}}', 'EGIF_ERR_JSON_DUPLICATE_KEY', 'nested in an array in an object')
  refused(t, '{"a":1,"\\u0061":2}', 'EGIF_ERR_JSON_DUPLICATE_KEY', 'the same key spelled with an escape')
  refused(t, '{"__proto__":1,"__proto__":2}', 'EGIF_ERR_JSON_DUPLICATE_KEY', '"__proto__" twice')
  refused(t, '{"toString":1,"toString":2}', 'EGIF_ERR_JSON_DUPLICATE_KEY', 'a key Object.prototype also has')
  t.same(parseJson(utf8('[{"a":1},{"a":2}]')), [{ a: 1 }, { a: 2 }], 'the same key in sibling objects is fine')
  t.same(parseJson(utf8('{"toString":1}')), { toString: 1 }, 'a key Object.prototype has, once, is fine')
})

t.test('nesting is bounded', async (t) => {
  const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n)
  t.ok(Array.isArray(parseJson(utf8(nest(64)))), 'depth 64 is allowed')
  refused(t, nest(65), 'EGIF_ERR_JSON_TOO_DEEP', 'depth 65')
  refused(t, nest(100_000), 'EGIF_ERR_JSON_TOO_DEEP', 'depth 100,000 fails fast without a stack overflow')
  refused(t, '{"a":'.repeat(100_000), 'EGIF_ERR_JSON_TOO_DEEP', 'unclosed objects 100,000 deep')
  refused(t, '{"a":{"b":[1]}}', 'EGIF_ERR_JSON_TOO_DEEP', 'a configured limit', { maxDepth: 2 })
  t.same(parseJson(utf8('{"a":{"b":1}}'), { maxDepth: 2 }), { a: { b: 1 } }, 'exactly a configured limit')
})

t.test('size is bounded', async (t) => {
  refused(t, `"${'x'.repeat(100)}"`, 'EGIF_ERR_BODY_TOO_LARGE', 'over maxBytes', { maxBytes: 100 })
})

t.test('trailing garbage and broken syntax are refused', async (t) => {
  const cases: Array<[string, string]> = [
    ['{"a":1} x', 'trailing text'], ['{"a":1}{"b":2}', 'two documents'], ['[1]]', 'an extra bracket'],
    ['{"a":1,}', 'a trailing comma in an object'], ['[1,]', 'a trailing comma in an array'], ['', 'an empty document'],
    ['   ', 'white space only'], ['{a:1}', 'an unquoted key'], ["{'a':1}", 'single quotes'], ['{"a" 1}', 'a missing colon'],
    ['[1 2]', 'a missing comma'], ['{"a":1', 'unclosed object'], ['"abc', 'unclosed string'], ['tru', 'a truncated literal'],
    ['"a\tb"', 'a raw tab in a string'], ['"a\u0001b"', 'a raw control character in a string'], ['"\\x41"', 'an invalid escape'],
    ['"\\u00G1"', 'a bad \\u escape'], ['[1] // comment', 'a comment'], ['\u00a0[1]', 'non-JSON white space'], ['NaN', 'NaN'],
    ['Infinity', 'Infinity']
  ]
  for (const [doc, name] of cases) refused(t, doc, 'EGIF_ERR_JSON_MALFORMED', name)
})

t.test('numbers follow the RFC 8259 grammar; overflow to Infinity is refused', async (t) => {
  for (const bad of ['01', '-', '+1', '.5', '1.', '1e', '1e+', '0x10', '-01', '1.e5', '- 1']) refused(t, bad, 'EGIF_ERR_JSON_MALFORMED', `"${bad}"`)
  refused(t, '1e400', 'EGIF_ERR_JSON_MALFORMED', '1e400 is not a finite double')
  refused(t, '-1e400', 'EGIF_ERR_JSON_MALFORMED', '-1e400 is not a finite double')
  for (const ok of ['0', '-0.0', '1e5', '1E+5', '2.5e-3', '9007199254740993', '1e-400', '1.7976931348623157e308']) {
    t.strictSame(parseJson(utf8(ok)), JSON.parse(ok), ok)
  }
})

// Decision: escaped lone surrogates are refused. They cannot be written as UTF-8, so a receiver's
// parser may replace, keep or reject them, and a validator and a receiver would read different
// strings (RFC 8259 §8.2; I-JSON, RFC 7493 §2.1, forbids them).
t.test('escaped lone surrogates are refused; pairs are fine', async (t) => {
  refused(t, '"\\ud800"', 'EGIF_ERR_JSON_MALFORMED', 'a lone high surrogate')
  refused(t, '"\\udc00"', 'EGIF_ERR_JSON_MALFORMED', 'a lone low surrogate')
  refused(t, '"\\ud800x"', 'EGIF_ERR_JSON_MALFORMED', 'a high surrogate followed by a character')
  refused(t, '"\\ud800\\u0041"', 'EGIF_ERR_JSON_MALFORMED', 'a high surrogate followed by a non-surrogate escape')
  refused(t, '"\\udc00\\ud800"', 'EGIF_ERR_JSON_MALFORMED', 'a pair in the wrong order')
  refused(t, '{"\\ud800":1}', 'EGIF_ERR_JSON_MALFORMED', 'in a key')
  t.equal(parseJson(utf8('"\\uD83D\\uDE00"')), '😀', 'an escaped pair, upper-case hex')
})
