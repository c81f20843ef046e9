import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { newKeyAndSelfSigned } from '../../src/crypto/certificates.js'
import { DocumentSigner } from '../../src/adapters-sdk/signing.js'
import { generateHubKey } from '../../src/crypto/hub-key.js'
import { verifySeal, verifySignedReceipt } from '../../src/crypto/receipt.js'
import { BUILTIN_SCHEMAS } from '../../src/hub.js'
import { DocumentTypeRegistry } from '../../src/registry/document-types.js'
import { ParticipantRegistry } from '../../src/registry/participants.js'
import { InlineChecks, ThreadChecks } from '../../src/pipeline/check-pool.js'
import type { CheckInput } from '../../src/pipeline/context.js'
import type { Receipt } from '../../src/store/types.js'
import { parseLimits } from '../../src/pipeline/parse.js'
import { registeredVerifiers } from '../../src/pipeline/verify-signature.js'
import { NOTE, ORDER, testConfig, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

/** A configuration whose sender TH-A signs with a registered certificate, and a signer for it. */
function setup (t: Test) {
  const dir = tmpDir(t)
  const { keyPem, certPem } = newKeyAndSelfSigned({ alg: 'ES256', subject: { CN: 'agency-a', O: 'Test Agency', C: 'TH' }, days: 30 })
  writeFileSync(join(dir, 'a.key'), keyPem)
  writeFileSync(join(dir, 'a.pem'), certPem)
  const cfg = testConfig(dir, 'http://127.0.0.1:9/', (raw) => { raw.participants[0].signingCertificates = [join(dir, 'a.pem')] })
  const signer = DocumentSigner.fromFiles({ keyFile: join(dir, 'a.key'), certFile: join(dir, 'a.pem') })
  return { cfg, signer }
}

const xml = (body: string, more: Partial<CheckInput> = {}): CheckInput => ({ body: Buffer.from(body), format: 'xml', sender: 'TH-A', receivedAt: new Date(), ...more })
const json = (body: string, more: Partial<CheckInput> = {}): CheckInput => ({ body: Buffer.from(body), format: 'json', sender: 'TH-A', declaredType: 'test-order', receivedAt: new Date(), ...more })

/** What a check came to: its result, or the error's code, message and extra members. */
async function outcome (p: Promise<unknown>): Promise<unknown> {
  try {
    return { result: await p }
  } catch (err) {
    const e = err as { code?: string, message: string, extra?: unknown, constructor: { name: string } }
    return { error: e.code ?? e.constructor.name, message: e.message, extra: e.extra }
  }
}

t.test('in threads the checks give the same results and the same refusals as on the event loop', async (t) => {
  const { cfg, signer } = setup(t)
  const types = DocumentTypeRegistry.fromConfig(cfg, BUILTIN_SCHEMAS)
  t.teardown(() => { types.close() })
  const inline = new InlineChecks({ types, participants: new ParticipantRegistry(cfg), limits: parseLimits(cfg), verifiers: registeredVerifiers })
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 2)
  t.teardown(async () => { await threads.close() })
  t.equal(threads.threadInfo().length, 2, 'two threads')

  const order = ORDER('o-signed', 5)
  const signed = signer.sign(Buffer.from(order), 'application/json')
  const cases: Array<[string, CheckInput, Record<string, unknown>]> = [
    ['a valid XML note', xml(NOTE()), { result: { type: 'test-note', version: '1.0', senderSignature: 'absent' } }],
    ['the version the note carries', xml(NOTE().replace('" version="1.0">', '" version="1.1">')), { result: { type: 'test-note', version: '1.1' } }],
    ['a valid JSON order', json(ORDER()), { result: { type: 'test-order', version: '1.0', senderSignature: 'absent' } }],
    ['a JSON order with a detached JWS by the registered certificate', json(order, { detachedSignature: signed.headers['egif-signature'] }), { result: { type: 'test-order', senderSignature: 'verified', signedBy: /^[0-9A-F:]+$/ } }],
    ['the same JWS over other bytes', json(ORDER('o-other', 5), { detachedSignature: signed.headers['egif-signature'] }), { error: 'EGIF_ERR_JWS_INVALID' }],
    ['a DOCTYPE', xml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Note xmlns="urn:test:note:1"/>'), { error: 'EGIF_ERR_XML_DOCTYPE' }],
    ['XML that is not well-formed', xml('<Note xmlns="urn:test:note:1"><Subject>x</Note>'), { error: 'EGIF_ERR_XML_MALFORMED' }],
    ['an unknown root element', xml('<Other xmlns="urn:test:other"/>'), { error: 'EGIF_ERR_TYPE_UNKNOWN' }],
    ['a note that breaks its schema (with the errors listed)', xml('<Note xmlns="urn:test:note:1" version="1.0"><Wrong/></Note>'), { error: 'EGIF_ERR_SCHEMA_INVALID', extra: { errors: [{ line: 1 }] } }],
    ['a declared version the document contradicts', xml(NOTE(), { declaredVersion: '1.1' }), { error: 'EGIF_ERR_VERSION_MISMATCH' }],
    ['JSON with a repeated key', json('{"schemaVersion":"1.0","orderId":"a","orderId":"b","amount":1}'), { error: 'EGIF_ERR_JSON_DUPLICATE_KEY' }],
    ['an order that breaks its schema', json('{"schemaVersion":"1.0","orderId":"a"}'), { error: 'EGIF_ERR_SCHEMA_INVALID' }],
    ['an empty body', json(''), { error: 'EGIF_ERR_BODY_EMPTY' }]
  ]
  for (const [what, input, expected] of cases) {
    const here = await outcome(inline.check(input))
    const there = await outcome(threads.check(input))
    t.match(there, expected, `${what}: in a thread`)
    t.same(there, here, `${what}: the same as on the event loop`)
  }
})

t.test('many checks at once all come back, each with its own result', async (t) => {
  const { cfg } = setup(t)
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 2)
  t.teardown(async () => { await threads.close() })
  const inputs = Array.from({ length: 200 }, (_, i) => i % 2 === 0 ? xml(NOTE(`n-${i}`)) : json(ORDER(`o-${i}`, i)))
  const results = await Promise.all(inputs.map(async (input) => await threads.check(input)))
  t.same(results.map((r) => r.type), inputs.map((i) => i.format === 'xml' ? 'test-note' : 'test-order'), 'every check answered, each with its own result')
  t.same(threads.threadInfo().map((i) => i.pending), [0, 0], 'nothing left pending')
})

t.test('a thread that runs out of memory fails only its checks, and another takes its place', async (t) => {
  const { cfg } = setup(t)
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 1, { maxHeapMb: 48 })
  t.teardown(async () => { await threads.close() })
  const [before] = threads.threadInfo()
  // Millions of numbers in one array: far more heap than the thread may use.
  const huge = json(`{"schemaVersion":"1.0","orderId":"x","amount":1,"lines":[${'1,'.repeat(4_900_000)}1]}`)
  await t.rejects(threads.check(huge), { code: 'EGIF_ERR_INTERNAL' }, 'the check that killed the thread fails as an internal error')
  const start = Date.now()
  while (threads.threadInfo().length === 0 && Date.now() - start < 30_000) await new Promise((resolve) => setTimeout(resolve, 20))
  const [after] = threads.threadInfo()
  t.ok(after !== undefined && after.threadId !== before.threadId, 'a new thread runs')
  t.match(await threads.check(xml(NOTE())), { type: 'test-note' }, 'and checks again')
})

t.test('with the default limits, a thread checks a document of the largest size the hub accepts', async (t) => {
  const { cfg } = setup(t)
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 1)
  t.teardown(async () => { await threads.close() })
  const [before] = threads.threadInfo()
  // ~10 MB and about a million values to parse.
  const big = `{"schemaVersion":"1.0","orderId":"x","amount":1,"lines":[${'{"n":1},'.repeat(1_200_000)}{"n":1}]}`
  t.ok(big.length <= cfg.limits.maxBodyBytes && big.length > cfg.limits.maxBodyBytes * 0.9, 'just under the size limit')
  await t.rejects(threads.check(json(big)), { code: 'EGIF_ERR_SCHEMA_INVALID' }, 'parsed in full and judged by the schema (which has no lines)')
  t.same(threads.threadInfo().map((i) => i.threadId), [before.threadId], 'by the same thread, which is still running')
  t.same((await threads.check(json(ORDER()))).type, 'test-order', 'and checks the next one')
})

t.test('a configuration a thread cannot load fails the start with its code', async (t) => {
  const { cfg } = setup(t)
  const broken = { ...cfg, participants: cfg.participants.map((p, i) => i === 0 ? { ...p, signingCertificates: ['/nonexistent/cert.pem'] } : p) }
  await t.rejects(ThreadChecks.start({ config: broken, builtinSchemas: BUILTIN_SCHEMAS }, 1), { code: 'EGIF_ERR_CONFIG_REFERENCE' })
})

t.test('after close, checks are refused as shutting down', async (t) => {
  const { cfg } = setup(t)
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 1)
  const pending = threads.check(xml(NOTE()))
  await threads.close()
  t.match(await pending, { type: 'test-note' }, 'a check handed over before close is answered')
  await t.rejects(threads.check(xml(NOTE())), { code: 'EGIF_ERR_SHUTTING_DOWN' })
  t.same(threads.threadInfo(), [])
})

t.test('asked for a seal, the checks make it with the hub key: it names what they found', async (t) => {
  const { cfg } = setup(t)
  const key = generateHubKey('ES256')
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS, sealKey: key }, 1)
  t.teardown(async () => { await threads.close() })
  const receivedAt = new Date('2026-12-01T10:00:00.000Z')
  const seal = { messageId: 'm-seal', receiver: 'TH-C', digest: `sha256:${'ab'.repeat(32)}` }
  const r = await threads.check(xml(NOTE(), { receivedAt, seal }))
  t.type(r.seal, 'string')
  t.same(verifySeal(r.seal!, [key]), {
    messageId: 'm-seal', sender: 'TH-A', receiver: 'TH-C', documentType: 'test-note', documentVersion: '1.0', digest: seal.digest, acceptedAt: receivedAt.toISOString(), senderSignature: 'absent'
  })
  t.equal((await threads.check(xml(NOTE()))).seal, undefined, 'no seal unless asked')
  await t.rejects(threads.check(xml('<Note xmlns="urn:test:note:1" version="1.0"><Wrong/></Note>', { seal })), { code: 'EGIF_ERR_SCHEMA_INVALID' }, 'a refused document gets no seal, only its refusal')
})

const receipt = (i: number): Omit<Receipt, 'signature'> => ({
  messageId: `m-${i}`,
  status: i % 2 === 0 ? 'accepted' : 'delivered',
  sender: 'TH-A',
  receiver: 'TH-C',
  documentType: 'test-note',
  documentVersion: '1.0',
  receivedAt: '2026-12-01T10:00:00.000Z',
  digest: `sha256:${i.toString(16).padStart(64, '0')}`,
  trail: { log: 'hub', index: i },
  ...(i % 2 === 1 ? { deliveredAt: '2026-12-01T10:00:01.000Z' } : {})
})

t.test('receipts signed in the threads verify with the hub key, each over its own fields', async (t) => {
  const { cfg } = setup(t)
  const key = generateHubKey('ES256')
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS, sealKey: key }, 2)
  t.teardown(async () => { await threads.close() })
  // Asked for together (one turn of the event loop), they go to a thread as one batch.
  const receipts = Array.from({ length: 300 }, (_, i) => receipt(i))
  const signatures = await Promise.all(receipts.map(async (r) => await threads.signReceipt(r)))
  let verified = 0
  for (const [i, r] of receipts.entries()) {
    if (isDeepStrictEqual(verifySignedReceipt({ ...r, signature: signatures[i] }, [key]), r)) verified++
  }
  t.equal(verified, receipts.length, 'every signature verifies and covers exactly its receipt')
  t.throws(() => verifySignedReceipt({ ...receipts[0], signature: signatures[1] }, [key]), { code: 'EGIF_ERR_JWS_INVALID' }, 'a signature does not fit another receipt')
  t.throws(() => verifySignedReceipt({ ...receipts[0], signature: signatures[0] }, [{ ...generateHubKey('ES256'), kid: key.kid }]), { code: 'EGIF_ERR_JWS_INVALID' }, 'nor verify with another key under the same kid')
  t.same(threads.threadInfo().map((i) => i.pending), [0, 0], 'nothing left pending')
})

t.test('with no thread to sign (stopping, or the thread lost), receipts are signed on the event loop', async (t) => {
  const { cfg } = setup(t)
  const key = generateHubKey('ES256')
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS, sealKey: key }, 1, { maxHeapMb: 48 })
  t.teardown(async () => { await threads.close() })
  // A check that kills the thread, with receipts handed to the same thread behind it.
  const huge = json(`{"schemaVersion":"1.0","orderId":"x","amount":1,"lines":[${'1,'.repeat(4_900_000)}1]}`)
  const killing = threads.check(huge)
  // A receipt handed over before the thread starts a check is signed first (next test); these
  // come once the thread is inside the check that ends it: the process uses CPU (at least half of
  // each 10 ms poll) while this thread only waits.
  let since = process.cpuUsage()
  await until(() => {
    const used = process.cpuUsage(since)
    since = process.cpuUsage()
    return used.user + used.system >= 5_000
  }, 'the thread at work on the check', 10_000)
  const lost = [receipt(1), receipt(2)]
  const signing = Promise.all(lost.map(async (r) => await threads.signReceipt(r)))
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(threads.threadInfo()[0]?.pending, 2, 'the receipts went to the thread, as one batch, while it checked')
  const signedDespite = await signing
  await t.rejects(killing, { code: 'EGIF_ERR_INTERNAL' })
  lost.forEach((r, i) => { t.same(verifySignedReceipt({ ...r, signature: signedDespite[i] }, [key]), r, `receipt ${i + 1} signed although its thread was lost`) })

  const late = receipt(3)
  const closing = threads.close()
  const signature = await threads.signReceipt(late)
  await closing
  t.same(verifySignedReceipt({ ...late, signature }, [key]), late, 'a receipt asked for while stopping is signed')
})

/**
 * One thread holding the hub key, `n` checks handed to it, then a receipt to sign; looked at after
 * one turn of the event loop: what the thread holds then, and how many checks had come back.
 */
async function receiptBehindChecks (t: Test, n: number) {
  const { cfg } = setup(t)
  const key = generateHubKey('ES256')
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS, sealKey: key }, 1)
  t.teardown(async () => { await threads.close() })
  let answered = 0
  const checks = Promise.all(Array.from({ length: n }, async (_, i) => { const c = await threads.check(xml(NOTE(`n-${i}`))); answered++; return c }))
  const r = receipt(n)
  const signing = threads.signReceipt(r)
  await new Promise((resolve) => setImmediate(resolve))
  return { key, r, signing, checks, held: threads.threadInfo()[0]?.pending, answeredThen: answered, answered: () => answered }
}

t.test('a receipt handed to a thread does not wait for the checks queued there before it', async (t) => {
  const b = await receiptBehindChecks(t, 30)
  t.equal(b.held, 31 - b.answeredThen, 'the receipt went to the thread, behind the checks')
  const signature = await b.signing
  const before = b.answered()
  t.ok(before < 20, `the signature came back while checks still waited (${before} of 30 answered before it)`)
  t.same(verifySignedReceipt({ ...b.r, signature }, [b.key]), b.r, 'and it verifies')
  t.equal((await b.checks).length, 30, 'every check is answered after it')
})

t.test('behind a thread with many checks waiting, receipts are signed on the event loop', async (t) => {
  const b = await receiptBehindChecks(t, 60)
  t.equal(b.held, 60 - b.answeredThen, 'no batch joined the checks waiting in the thread')
  t.same(verifySignedReceipt({ ...b.r, signature: await b.signing }, [b.key]), b.r, 'the receipt is signed all the same')
  t.equal((await b.checks).length, 60)
})

t.test('answers the event loop has not read yet do not count as the thread falling behind', async (t) => {
  const { cfg } = setup(t)
  const key = generateHubKey('ES256')
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS, sealKey: key }, 1)
  t.teardown(async () => { await threads.close() })
  const checks = Promise.all(Array.from({ length: 60 }, async (_, i) => await threads.check(xml(NOTE(`n-${i}`)))))
  // The event loop busy (here: waiting without yielding) while the thread works through them.
  const until = Date.now() + 20_000
  while (threads.threadInfo()[0]?.backlog !== 0 && Date.now() < until) { /* the thread has checks to start */ }
  const [info] = threads.threadInfo()
  t.equal(info?.backlog, 0, 'the thread has started them all: it is not behind')
  t.equal(info?.pending, 60, 'while their answers wait for the event loop')
  // So a receipt asked for now goes to the thread (it signs more than 32 behind: the test above).
  const r = receipt(60)
  t.same(verifySignedReceipt({ ...r, signature: await threads.signReceipt(r) }, [key]), r)
  t.equal((await checks).length, 60)
})

t.test('a check that cannot be handed to a thread fails alone and leaves nothing held', async (t) => {
  const { cfg } = setup(t)
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 1)
  t.teardown(async () => { await threads.close() })
  // A function cannot cross to a thread (structured clone): postMessage throws.
  const unclonable = { ...json(ORDER()), seal: { messageId: 'x', receiver: 'TH-B', digest: 'sha256:00', extra: () => 1 } } as unknown as CheckInput
  await t.rejects(threads.check(unclonable), { name: 'DataCloneError' })
  t.same(threads.threadInfo().map((i) => [i.pending, i.backlog]), [[0, 0]], 'nothing pending, nothing counted')
  t.same((await threads.check(json(ORDER()))).type, 'test-order', 'and the thread checks the next one')
})

t.test('threads without the hub key refuse to sign receipts', async (t) => {
  const { cfg } = setup(t)
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS }, 1)
  t.teardown(async () => { await threads.close() })
  await t.rejects(threads.signReceipt(receipt(1)), /no hub key/)
})

t.test('receipts asked for in one turn go to a thread in one hand-over, at once; closing signs what is queued', async (t) => {
  const { cfg } = setup(t)
  const key = generateHubKey('ES256')
  const threads = await ThreadChecks.start({ config: cfg, builtinSchemas: BUILTIN_SCHEMAS, sealKey: key }, 1)
  t.teardown(async () => { await threads.close() })
  const first = receipt(1)
  const second = receipt(2)
  const signing = [threads.signReceipt(first), threads.signReceipt(second)]
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(threads.threadInfo()[0]?.pending, 1, 'both in one hand-over, in the next turn')
  const [a, b] = await Promise.all(signing)
  t.same(verifySignedReceipt({ ...first, signature: a }, [key]), first)
  t.same(verifySignedReceipt({ ...second, signature: b }, [key]), second)

  const last = receipt(3)
  const queued = threads.signReceipt(last)
  await threads.close()
  t.same(verifySignedReceipt({ ...last, signature: await queued }, [key]), last, 'closing signs what was queued')
})
