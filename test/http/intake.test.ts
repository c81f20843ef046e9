import t from 'tap'
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { KEYS, NOTE, ORDER, headers, startHub, until } from '../helpers/hub.js'

const sha = (s: string | Buffer): string => 'sha256:' + createHash('sha256').update(s).digest('hex')

function post (key: string, body: string | Buffer, h: Record<string, string>) {
  return { method: 'POST' as const, url: '/v1/messages', payload: body, headers: headers(key, h) }
}

const XML = { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B' }
const JSON_H = { 'content-type': 'application/json', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-order' }

t.test('a valid XML document is accepted with a receipt; the type comes from the root element', async (t) => {
  const { app } = await startHub(t)
  const body = NOTE()
  const res = await app.inject(post(KEYS.A, body, { ...XML, 'egif-message-id': 'n-1' }))
  t.equal(res.statusCode, 202, res.body)
  const r = res.json()
  t.match(r, { messageId: 'n-1', status: 'accepted', sender: 'TH-A', receiver: 'TH-B', documentType: 'test-note', documentVersion: '1.0', digest: sha(body), trail: { log: 'TEST-HUB', index: Number } })
  t.match(r.receivedAt, /^\d{4}-\d\d-\d\dT/)
  t.type(r.signature, 'string')
  t.equal(r.signature.split('.').length, 3, 'the receipt signature is a compact JWS')
  t.equal(res.headers.location, '/v1/messages/n-1')
})

t.test('a JSON document is accepted; its version comes from the document', async (t) => {
  const { app } = await startHub(t)
  const res = await app.inject(post(KEYS.A, ORDER(), { ...JSON_H, 'egif-message-id': 'o-1' }))
  t.equal(res.statusCode, 202, res.body)
  t.match(res.json(), { documentType: 'test-order', documentVersion: '1.0' })
})

t.test('a UTF-8 byte order mark is accepted and the bytes are kept as sent', async (t) => {
  const { app, hub } = await startHub(t)
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(NOTE())])
  const res = await app.inject(post(KEYS.A, body, { ...XML, 'egif-message-id': 'bom-1' }))
  t.equal(res.statusCode, 202, res.body)
  t.equal(res.json().digest, sha(body), 'digest of the exact bytes, BOM included')
  t.same(await hub.store.bodyOf((await hub.store.get('TH-A', 'bom-1'))!), body)
})

t.test('idempotency: same id and bytes → 200 with the original receipt; other bytes → 409', async (t) => {
  const { app } = await startHub(t)
  const first = await app.inject(post(KEYS.A, NOTE(), { ...XML, 'egif-message-id': 'idem-1' }))
  t.equal(first.statusCode, 202)
  const again = await app.inject(post(KEYS.A, NOTE(), { ...XML, 'egif-message-id': 'idem-1' }))
  t.equal(again.statusCode, 200)
  t.same(again.json(), first.json(), 'the original receipt, signature and all')
  const other = await app.inject(post(KEYS.A, NOTE('Changed'), { ...XML, 'egif-message-id': 'idem-1' }))
  t.equal(other.statusCode, 409)
  t.match(other.json(), { code: 'EGIF_ERR_IDEMPOTENCY_CONFLICT', originalDigest: first.json().digest })
  t.equal(other.headers['content-type'], 'application/problem+json; charset=utf-8')
})

t.test('authentication and authorization', async (t) => {
  const { app } = await startHub(t)
  const noKey = await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: { ...XML, 'egif-message-id': 'a-1' } })
  t.equal(noKey.statusCode, 401)
  t.equal(noKey.json().code, 'EGIF_ERR_AUTH_MISSING')
  const badKey = await app.inject(post('not-a-real-key', NOTE(), { ...XML, 'egif-message-id': 'a-1' }))
  t.equal(badKey.statusCode, 401)
  t.equal(badKey.json().code, 'EGIF_ERR_AUTH_INVALID')
  const demoKey = await app.inject(post('demo-th-ocsc', NOTE(), { ...XML, 'egif-message-id': 'a-1' }))
  t.equal(demoKey.statusCode, 401, 'a demo key outside a demo configuration')
  t.match(demoKey.json().detail, /demo: true/)
  const mismatch = await app.inject(post(KEYS.C, NOTE(), { ...XML, 'egif-message-id': 'a-1' }))
  t.equal(mismatch.statusCode, 403)
  t.equal(mismatch.json().code, 'EGIF_ERR_SENDER_MISMATCH')
  const noRoute = await app.inject(post(KEYS.B, ORDER(), { ...JSON_H, 'egif-sender': 'TH-B', 'egif-receiver': 'TH-A', 'egif-message-id': 'a-2' }))
  t.equal(noRoute.statusCode, 403)
  t.equal(noRoute.json().code, 'EGIF_ERR_ROUTE_NOT_ALLOWED')
  const auditor = await app.inject(post(KEYS.AUDITOR, NOTE(), { ...XML, 'egif-sender': 'AUDITOR', 'egif-message-id': 'a-3' }))
  t.equal(auditor.statusCode, 403, 'auditors read, never send')
  const unknownReceiver = await app.inject(post(KEYS.A, NOTE(), { ...XML, 'egif-receiver': 'TH-NOBODY', 'egif-message-id': 'a-4' }))
  t.equal(unknownReceiver.statusCode, 422)
  t.equal(unknownReceiver.json().code, 'EGIF_ERR_RECEIVER_UNKNOWN')
})

t.test('headers, media types and sizes', async (t) => {
  const { app } = await startHub(t, { patch: (raw) => { raw.limits = { maxBodyBytes: 4096 } } })
  const cases: Array<[string, Record<string, string>, string | Buffer, number, string]> = [
    ['no message id', { ...XML }, NOTE(), 400, 'EGIF_ERR_HEADER_MISSING'],
    ['message id with a slash', { ...XML, 'egif-message-id': 'a/b' }, NOTE(), 400, 'EGIF_ERR_HEADER_INVALID'],
    ['no receiver', { ...XML, 'egif-receiver': '', 'egif-message-id': 'h-1' }, NOTE(), 400, 'EGIF_ERR_HEADER_MISSING'],
    ['text/plain', { ...XML, 'content-type': 'text/plain', 'egif-message-id': 'h-2' }, NOTE(), 415, 'EGIF_ERR_MEDIA_TYPE'],
    ['latin-1 charset', { ...XML, 'content-type': 'application/xml; charset=iso-8859-1', 'egif-message-id': 'h-3' }, NOTE(), 415, 'EGIF_ERR_MEDIA_TYPE'],
    ['gzip body', { ...XML, 'content-encoding': 'gzip', 'egif-message-id': 'h-8' }, gzipSync(NOTE()), 415, 'EGIF_ERR_MEDIA_TYPE'],
    ['gzip named on a plain body', { ...XML, 'content-encoding': 'gzip', 'egif-message-id': 'h-9' }, NOTE(), 415, 'EGIF_ERR_MEDIA_TYPE'],
    ['too large', { ...XML, 'egif-message-id': 'h-4' }, NOTE('x'.repeat(5000)), 413, 'EGIF_ERR_BODY_TOO_LARGE'],
    ['empty body', { ...XML, 'egif-message-id': 'h-5' }, '', 400, 'EGIF_ERR_BODY_EMPTY'],
    ['JSON without a type', { ...JSON_H, 'egif-document-type': '', 'egif-message-id': 'h-6' }, ORDER(), 400, 'EGIF_ERR_HEADER_MISSING']
  ]
  for (const [name, h, body, status, code] of cases) {
    const res = await app.inject(post(KEYS.A, body, h))
    t.equal(res.statusCode, status, `${name}: status`)
    t.equal(res.json().code, code, `${name}: code`)
  }
  const charsetOk = await app.inject(post(KEYS.A, NOTE(), { ...XML, 'content-type': 'application/xml; charset=UTF-8', 'egif-message-id': 'h-7' }))
  t.equal(charsetOk.statusCode, 202, 'charset=UTF-8 is fine')
  const identity = await app.inject(post(KEYS.A, NOTE(), { ...XML, 'content-encoding': 'identity', 'egif-message-id': 'h-10' }))
  t.equal(identity.statusCode, 202, 'Content-Encoding: identity is the body as it is')
})

t.test('types, versions and schemas', async (t) => {
  const { app } = await startHub(t)
  const cases: Array<[string, Record<string, string>, string, number, string]> = [
    ['unknown root', { ...XML, 'egif-message-id': 'v-1' }, '<Other xmlns="urn:x"/>', 422, 'EGIF_ERR_TYPE_UNKNOWN'],
    ['unknown declared type', { ...XML, 'egif-document-type': 'nope', 'egif-message-id': 'v-2' }, NOTE(), 422, 'EGIF_ERR_TYPE_UNKNOWN'],
    ['declared type disagrees with the root', { ...XML, 'egif-document-type': 'test-order', 'egif-message-id': 'v-3' }, NOTE(), 422, 'EGIF_ERR_TYPE_MISMATCH'],
    ['unsupported version', { ...XML, 'egif-message-id': 'v-4' }, NOTE().replace('note:1" version="1.0"', 'note:1" version="2.2"'), 422, 'EGIF_ERR_VERSION_UNSUPPORTED'],
    ['header version disagrees', { ...XML, 'egif-document-version': '1.1', 'egif-message-id': 'v-5' }, NOTE(), 422, 'EGIF_ERR_VERSION_MISMATCH'],
    ['XSD invalid', { ...XML, 'egif-message-id': 'v-6' }, NOTE().replace('<Subject>Hello</Subject>', ''), 422, 'EGIF_ERR_SCHEMA_INVALID'],
    ['JSON Schema invalid', { ...JSON_H, 'egif-message-id': 'v-7' }, JSON.stringify({ schemaVersion: '1.0', orderId: 'x', amount: -1 }), 422, 'EGIF_ERR_SCHEMA_INVALID'],
    ['JSON body for an XML type', { ...JSON_H, 'egif-document-type': 'test-note', 'egif-message-id': 'v-8' }, ORDER(), 422, 'EGIF_ERR_TYPE_MISMATCH']
  ]
  for (const [name, h, body, status, code] of cases) {
    const res = await app.inject(post(KEYS.A, body, h))
    t.equal(res.statusCode, status, `${name}: status (${res.body.slice(0, 200)})`)
    t.equal(res.json().code, code, `${name}: code`)
  }
  const invalid = await app.inject(post(KEYS.A, NOTE().replace('<Subject>Hello</Subject>', ''), { ...XML, 'egif-message-id': 'v-9' }))
  t.match(invalid.json().errors, [{ line: Number, message: /Text|Subject/ }], 'schema errors are listed with their lines')
  const noHeaderVersion = await app.inject(post(KEYS.A, NOTE().replace('note:1" version="1.0"', 'note:1"'), { ...XML, 'egif-message-id': 'v-10' }))
  t.equal(noHeaderVersion.statusCode, 202, 'a document without a version is read as the default version')
  t.equal(noHeaderVersion.json().documentVersion, '1.0')
  const byHeader = await app.inject(post(KEYS.A, NOTE().replace('note:1" version="1.0"', 'note:1"'), { ...XML, 'egif-document-version': '1.1', 'egif-message-id': 'v-11' }))
  t.equal(byHeader.json().documentVersion, '1.1', 'or as the header says when the document does not')
})

t.test('hostile XML is refused with a stable code and the process stays up', async (t) => {
  const { app } = await startHub(t)
  const lol = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><Note xmlns="urn:test:note:1"><Subject>&lol2;</Subject><Text>x</Text></Note>'
  const xxe = '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY x SYSTEM "file:///etc/passwd">]><Note xmlns="urn:test:note:1"><Subject>&x;</Subject><Text>x</Text></Note>'
  const deep = '<Note xmlns="urn:test:note:1">' + '<a>'.repeat(10000) + '</a>'.repeat(10000) + '</Note>'
  const attrs = '<Note xmlns="urn:test:note:1" ' + Array.from({ length: 500 }, (_, i) => `a${i}="1"`).join(' ') + '><Subject>s</Subject><Text>t</Text></Note>'
  const cases: Array<[string, string | Buffer, string]> = [
    ['billion laughs', lol, 'EGIF_ERR_XML_DOCTYPE'],
    ['external entity', xxe, 'EGIF_ERR_XML_DOCTYPE'],
    ['deep nesting', deep, 'EGIF_ERR_XML_TOO_DEEP'],
    ['attribute flood', attrs, 'EGIF_ERR_XML_TOO_MANY_ATTRIBUTES'],
    ['two roots', NOTE() + '<Note xmlns="urn:test:note:1"/>', 'EGIF_ERR_XML_MULTIPLE_ROOTS'],
    ['control character', NOTE('a\u0001b'), 'EGIF_ERR_XML_CONTROL_CHAR'],
    ['unclosed tag', '<Note xmlns="urn:test:note:1"><Subject>s</Subject><Text>t</Note>', 'EGIF_ERR_XML_MALFORMED'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('<Note xmlns="urn:test:note:1"><Subject>'), Buffer.from([0xc3, 0x28]), Buffer.from('</Subject><Text>t</Text></Note>')]), 'EGIF_ERR_ENCODING'],
    ['processing instruction splitting text', NOTE().replace('<Text>สวัสดี', '<Text>สวัส<?evil x?>ดี'), 'EGIF_ERR_XML_PROCESSING_INSTRUCTION']
  ]
  for (const [i, [name, body, code]] of cases.entries()) {
    const res = await app.inject(post(KEYS.A, body, { ...XML, 'egif-message-id': `x-${i}` }))
    t.equal(res.statusCode, 400, `${name}: 400`)
    t.equal(res.json().code, code, `${name}: ${code}`)
  }
  const json = [['duplicate key', '{"schemaVersion":"1.0","orderId":"a","orderId":"b","amount":1}', 'EGIF_ERR_JSON_DUPLICATE_KEY'], ['not JSON', '{"a":', 'EGIF_ERR_JSON_MALFORMED'], ['too deep', '['.repeat(1000) + ']'.repeat(1000), 'EGIF_ERR_JSON_TOO_DEEP']]
  for (const [i, [name, body, code]] of json.entries()) {
    const res = await app.inject(post(KEYS.A, body, { ...JSON_H, 'egif-message-id': `j-${i}` }))
    t.equal(res.json().code, code, `${name}: ${code}`)
  }
  const after = await app.inject(post(KEYS.A, NOTE(), { ...XML, 'egif-message-id': 'still-up' }))
  t.equal(after.statusCode, 202, 'the hub still accepts good documents')
})

t.test('rejected requests are recorded without their bodies', async (t) => {
  const { app, hub } = await startHub(t)
  const before = (await hub.store.stats()).rejections
  await app.inject(post(KEYS.A, NOTE('', ''), { ...XML, 'egif-message-id': 'r-1', 'egif-receiver': 'TH-NOBODY' }))
  await app.inject(post('bad-key-xxxxxxxx', NOTE(), { ...XML, 'egif-message-id': 'r-2' }))
  // Rejections are recorded after the answer, without anyone waiting for them.
  await until(async () => (await hub.store.stats()).rejections >= before + 2, 'the two rejections to be recorded').catch(() => {})
  t.equal((await hub.store.stats()).rejections, before + 2)
})

t.test('directory, health, readiness and keys', async (t) => {
  const { app } = await startHub(t)
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
  t.same((await app.inject({ url: '/ready' })).json(), { ready: true, mode: 'embedded' })
  const parts = await app.inject({ url: '/v1/participants', headers: headers(KEYS.A, {}) })
  t.same(parts.json().participants.map((p: { id: string }) => p.id), ['TH-A', 'TH-B', 'TH-C'])
  t.notMatch(parts.body, /sha256:/, 'no key hashes in the directory')
  const types = await app.inject({ url: '/v1/document-types', headers: headers(KEYS.A, {}) })
  t.match(types.json().documentTypes, [{ id: 'test-note', format: 'xml', versions: ['1.0', '1.1'] }, { id: 'test-order', format: 'json' }])
  t.equal((await app.inject({ url: '/v1/participants' })).statusCode, 401)
  const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json()
  t.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1, 'the hub publishes its public key')
  t.notOk(jwks.keys.some((k: Record<string, unknown>) => 'd' in k), 'no private members')
  const unknown = await app.inject({ url: '/v1/nothing' })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'EGIF_ERR_NOT_FOUND')
  // A path the hub has, with a method it does not answer there: 405 and the methods it does.
  const wrong = await app.inject({ method: 'DELETE', url: '/v1/messages', headers: headers(KEYS.A, {}) })
  t.equal(wrong.statusCode, 405)
  t.equal(wrong.headers.allow, 'POST')
  t.match(wrong.json(), { code: 'EGIF_ERR_METHOD_NOT_ALLOWED', detail: '/v1/messages answers POST, not DELETE' })
  const status = await app.inject({ method: 'PUT', url: '/v1/messages/some-id?sender=TH-A' })
  t.equal(status.statusCode, 405, 'a path with a parameter')
  t.equal(status.headers.allow, 'GET, HEAD')
  const ack = await app.inject({ method: 'GET', url: '/v1/inbox/some-id/ack' })
  t.equal(ack.headers.allow, 'POST')
  t.equal((await app.inject({ method: 'POST', url: '/v1/messages/a/b' })).statusCode, 404, 'a segment more is no such path')
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/inbox/' })).statusCode, 404, 'nor is an empty id')
})

t.test('many messages with the same bytes at once are each accepted', async (t) => {
  const { app } = await startHub(t)
  const body = NOTE('the same letter to many')
  const res = await Promise.all(Array.from({ length: 20 }, async (_, i) => await app.inject(post(KEYS.A, body, { ...XML, 'egif-message-id': `same-${i}` }))))
  t.same(res.map((r) => r.statusCode), Array(20).fill(202), 'no refusal and no crash when bodies are identical')
  t.equal(new Set(res.map((r) => r.json().digest)).size, 1)
})
