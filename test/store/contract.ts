import type { Test } from 'tap'
import type { MessageStore } from '../../src/store/store.js'
import type { MessageMeta, Receipt, StoredMessage } from '../../src/store/types.js'

/**
 * The contract every MessageStore passes (the journal of embedded mode, Redis of cluster mode).
 * `open` makes a store over one fresh location; calling it again opens the same location again,
 * as a restarted or second hub process would.
 */
export type StoreFactory = (t: Test) => Promise<{ open: () => Promise<MessageStore> }>

export function meta (id: string, digest = 'sha256:aa', sender = 'TH-A', receiver = 'TH-B'): MessageMeta {
  return { messageId: id, sender, receiver, documentType: 'x', documentVersion: '1', contentType: 'application/json', digest, size: 2, receivedAt: new Date(0).toISOString(), senderSignature: 'absent' }
}

export function record (m: MessageMeta, index = 0) {
  return async () => ({ receipt: { ...m, status: 'accepted' as const, trail: { log: 'test', index } satisfies Receipt['trail'], signature: 'sig' }, seal: 'seal' })
}

export function storeContract (t: Test, factory: StoreFactory): void {
  t.test('accept, duplicate, conflict; state seen again after a reopen', async (t) => {
    const loc = await factory(t)
    const store = await loc.open()
    const first = await store.accept(meta('m1'), Buffer.from('{}'), record(meta('m1')))
    t.equal(first.duplicate, false)
    const dup = await store.accept(meta('m1'), Buffer.from('{}'), record(meta('m1')))
    t.equal(dup.duplicate, true, 'same id and digest is a duplicate')
    t.same(dup.message.receipt, first.message.receipt, 'with the original receipt')
    await t.rejects(store.accept(meta('m1', 'sha256:bb'), Buffer.from('{1}'), record(meta('m1'))), { code: 'EGIF_ERR_IDEMPOTENCY_CONFLICT' })
    const other = await store.accept(meta('m1', 'sha256:cc', 'TH-C'), Buffer.from('[]'), record(meta('m1', 'sha256:cc', 'TH-C')))
    t.equal(other.duplicate, false, 'ids are unique per sender, not across senders')
    t.equal((await store.withId('m1')).length, 2)

    await store.addEvent('TH-A', 'm1', { type: 'attempt-failed', at: new Date(1).toISOString(), attempt: 1, code: 'X', nextAttemptAt: new Date(2).toISOString() })
    const delivered = { ...first.message.receipt, status: 'delivered' as const, deliveredAt: new Date(3).toISOString(), signature: 'sig2' }
    await store.addEvent('TH-A', 'm1', { type: 'delivered', at: new Date(3).toISOString(), attempt: 2 }, delivered)
    await store.recordRejection({ at: new Date(4).toISOString(), code: 'EGIF_ERR_SCHEMA_INVALID', status: 422, size: 10 })
    await store.accept(meta('m2'), Buffer.from('{}'), record(meta('m2'), 7))
    await store.close()

    const again = await loc.open()
    const m = (await again.get('TH-A', 'm1'))!
    t.equal(m.state, 'delivered')
    t.equal(m.attempts, 2)
    t.same(m.events.map((e) => e.type), ['accepted', 'attempt-failed', 'delivered'])
    t.same(m.deliveredReceipt, delivered)
    t.equal((await again.bodyOf(m)).toString(), '{}')
    t.equal((await again.get('TH-C', 'm1'))!.state, 'queued')
    t.same((await again.undelivered()).map((x) => `${x.sender}/${x.messageId}`).sort(), ['TH-A/m2', 'TH-C/m1'])
    t.equal((await again.stats()).rejections, 1)
    t.equal((await again.stats()).messages, 3)
    t.equal(await again.get('TH-A', 'nope'), undefined)
    t.same(await again.progress('TH-A', 'm1'), { state: 'delivered', attempts: 2 }, 'progress of a settled message, as get gives it')
    t.same(await again.progress('TH-C', 'm1'), { state: 'queued', attempts: 0 })
    t.equal(await again.progress('TH-A', 'nope'), undefined)
    await again.addEvent('TH-C', 'm1', { type: 'attempt-failed', at: new Date(5).toISOString(), attempt: 1, code: 'X', nextAttemptAt: new Date(6).toISOString() })
    t.same(await again.progress('TH-C', 'm1'), { state: 'queued', attempts: 1 }, 'progress follows an event at once')
    t.ok(again.ready())
    await again.close()
  })

  t.test('a delivered receipt kept after the delivery: the first for a delivery wins, a later delivery replaces it, and it outlives a reopen', async (t) => {
    const loc = await factory(t)
    const store = await loc.open()
    const { message } = await store.accept(meta('late'), Buffer.from('{}'), record(meta('late')))
    const receiptAt = (ms: number, signature: string): Receipt => ({ ...message.receipt, status: 'delivered', deliveredAt: new Date(ms).toISOString(), signature })
    await store.addEvent('TH-A', 'late', { type: 'delivered', at: new Date(3).toISOString(), attempt: 1 })
    t.equal((await store.get('TH-A', 'late'))!.deliveredReceipt, undefined, 'the delivery recorded none')
    const [one, two] = await Promise.all([store.keepDeliveredReceipt('TH-A', 'late', receiptAt(3, 'first')), store.keepDeliveredReceipt('TH-A', 'late', receiptAt(3, 'second'))])
    t.same(one, two, 'two signed for one delivery at once: both callers get the same one')
    t.same(await store.keepDeliveredReceipt('TH-A', 'late', receiptAt(3, 'third')), one, 'and so does a later caller')
    t.same((await store.get('TH-A', 'late'))!.deliveredReceipt, one, 'the message holds it')
    t.equal((await store.get('TH-A', 'late'))!.state, 'delivered', 'its state is unchanged')

    await store.addEvent('TH-A', 'late', { type: 'replayed', at: new Date(4).toISOString(), by: 'op' })
    await store.addEvent('TH-A', 'late', { type: 'delivered', at: new Date(5).toISOString(), attempt: 1 })
    const newer = await store.keepDeliveredReceipt('TH-A', 'late', receiptAt(5, 'newer'))
    t.equal(newer.signature, 'newer', 'a later delivery gets its own')
    t.equal((await store.keepDeliveredReceipt('TH-A', 'late', receiptAt(3, 'stale'))).signature, 'newer', 'one for the earlier delivery does not replace it')
    await t.rejects(store.keepDeliveredReceipt('TH-A', 'nope', receiptAt(3, 'x')), { code: 'EGIF_ERR_NOT_FOUND' })
    await store.close()

    const again = await loc.open()
    const m = (await again.get('TH-A', 'late'))!
    t.same(m.deliveredReceipt, newer, 'the kept receipt after a reopen')
    t.same(m.events.map((e) => e.type), ['accepted', 'delivered', 'replayed', 'delivered'], 'and the events, none added by keeping it')
    t.equal(m.state, 'delivered')
    t.equal((await again.stats()).rejections, 0, 'a kept receipt is no refusal')
    await again.close()
  })

  t.test('concurrent submissions of one id store it once', async (t) => {
    const store = await (await factory(t)).open()
    const results = await Promise.all(Array.from({ length: 20 }, async () => await store.accept(meta('same'), Buffer.from('{}'), record(meta('same')))))
    t.equal(results.filter((r) => !r.duplicate).length, 1, 'one stored')
    t.equal(results.filter((r) => r.duplicate).length, 19, 'the rest are duplicates')
    t.equal((await store.stats()).messages, 1)
    await store.close()
  })

  t.test('an event written only in one state: one of many at once, none in another state', async (t) => {
    const loc = await factory(t)
    const store = await loc.open()
    const { message } = await store.accept(meta('boxed'), Buffer.from('{}'), record(meta('boxed')))
    const receiptAt = (ms: number, signature: string): Receipt => ({ ...message.receipt, status: 'delivered', deliveredAt: new Date(ms).toISOString(), signature })
    await t.rejects(store.addEvent('TH-A', 'boxed', { type: 'acked', at: receiptAt(1, 'x').deliveredAt!, by: 'TH-B' }, receiptAt(1, 'x'), { onlyIn: 'in-mailbox' }),
      { code: 'EGIF_ERR_NOT_FOUND', extra: { state: 'queued' } }, 'not in the mailbox yet: refused with the state it is in')
    t.same((await store.get('TH-A', 'boxed'))!.events.map((e) => e.type), ['accepted'], 'and nothing written')
    await store.addEvent('TH-A', 'boxed', { type: 'in-mailbox', at: new Date(1).toISOString(), attempt: 1 })
    const acks = await Promise.allSettled(Array.from({ length: 6 }, async (_, i) =>
      await store.addEvent('TH-A', 'boxed', { type: 'acked', at: receiptAt(2 + i, 'x').deliveredAt!, by: 'TH-B' }, receiptAt(2 + i, `r${i}`), { onlyIn: 'in-mailbox' })))
    const done = acks.filter((a) => a.status === 'fulfilled')
    t.equal(done.length, 1, 'one written')
    for (const a of acks) if (a.status === 'rejected') t.match(a.reason, { code: 'EGIF_ERR_NOT_FOUND', extra: { state: 'acked' } }, 'the others refused: already acked')
    const m = (await store.get('TH-A', 'boxed'))!
    t.same(m.events.map((e) => e.type), ['accepted', 'in-mailbox', 'acked'])
    t.same(m.deliveredReceipt, (done[0] as PromiseFulfilledResult<StoredMessage>).value.deliveredReceipt, 'the receipt kept is the written one\'s')
    await store.close()
    const again = await loc.open()
    t.same((await again.get('TH-A', 'boxed'))!.events.map((e) => e.type), ['accepted', 'in-mailbox', 'acked'], 'and so after a reopen')
    await again.close()
  })

  t.test('concurrent submissions of one id make one record; a failed first leaves the next its own try', async (t) => {
    const store = await (await factory(t)).open()
    let made = 0
    const counted = (m: MessageMeta) => async () => { made++; return await record(m)() }
    const results = await Promise.all(Array.from({ length: 10 }, async () => await store.accept(meta('once'), Buffer.from('{}'), counted(meta('once')))))
    t.equal(made, 1, 'the receipt and seal are made once')
    t.equal(new Set(results.map((r) => r.message.receipt)).size, 1, 'every caller gets the same stored message')
    const conflicts = await Promise.allSettled([
      store.accept(meta('twice'), Buffer.from('{}'), async () => { throw new Error('signing failed') }),
      store.accept(meta('twice', 'sha256:bb'), Buffer.from('{1}'), counted(meta('twice', 'sha256:bb')))
    ])
    t.match(conflicts[0], { status: 'rejected', reason: { message: 'signing failed' } })
    t.match(conflicts[1], { status: 'fulfilled', value: { duplicate: false, message: { digest: 'sha256:bb' } } }, 'the second, waiting on a first that failed, is stored')
    await store.close()
  })

  t.test('two stores over one location agree (a second process)', async (t) => {
    const loc = await factory(t)
    const a = await loc.open()
    await a.accept(meta('shared'), Buffer.from('{"x":1}'), record(meta('shared')))
    const b = await loc.open()
    const seen = await b.get('TH-A', 'shared')
    if (seen === undefined) {
      // The journal is one process's: a second store sees what was on disk when it opened.
      t.fail('the second store does not see the message')
    } else {
      t.equal(seen.digest, 'sha256:aa')
      t.equal((await b.bodyOf(seen)).toString(), '{"x":1}')
    }
    await a.close()
    await b.close()
  })

  t.test('mailbox pages, dead letters and replay follow events', async (t) => {
    const store = await (await factory(t)).open()
    for (const id of ['a', 'b', 'c', 'd']) {
      await store.accept(meta(id), Buffer.from('{}'), record(meta(id)))
      await store.addEvent('TH-A', id, { type: 'in-mailbox', at: new Date().toISOString(), attempt: 1 })
    }
    const p1 = await store.inbox('TH-B', { limit: 2 })
    t.same(p1.messages.map((m) => m.messageId), ['a', 'b'])
    t.type(p1.next, 'string')
    await store.addEvent('TH-A', 'a', { type: 'acked', at: new Date().toISOString(), by: 'TH-B' })
    await store.addEvent('TH-A', 'b', { type: 'acked', at: new Date().toISOString(), by: 'TH-B' })
    const p2 = await store.inbox('TH-B', { after: p1.next, limit: 2 })
    t.same(p2.messages.map((m) => m.messageId), ['c', 'd'], 'the cursor still works after the messages before it left')
    t.equal(p2.next, undefined)
    t.same((await store.inbox('TH-B')).messages.map((m) => m.messageId), ['c', 'd'], 'acked messages leave the mailbox')
    t.same((await store.inbox('TH-X')).messages, [])

    await store.accept(meta('dead'), Buffer.from('{}'), record(meta('dead')))
    await store.addEvent('TH-A', 'dead', { type: 'dead-lettered', at: new Date().toISOString(), attempt: 1, code: 'EGIF_ERR_DELIVERY_PERMANENT' })
    t.same((await store.deadLetters()).map((m) => m.messageId), ['dead'])
    await store.addEvent('TH-A', 'dead', { type: 'replayed', at: new Date().toISOString(), by: 'operator' })
    const replayed = (await store.get('TH-A', 'dead'))!
    t.equal(replayed.state, 'queued')
    t.equal(replayed.attempts, 0, 'a replay starts the attempts again')
    t.same(await store.deadLetters(), [])
    await t.rejects(store.addEvent('TH-A', 'nope', { type: 'acked', at: '' }), { code: 'EGIF_ERR_NOT_FOUND' })
    await store.close()
  })

  t.test('bodies of settled messages expire; metadata, events and the rest stay', async (t) => {
    const loc = await factory(t)
    const store = await loc.open()
    const big = (c: string): Buffer => Buffer.from(JSON.stringify({ text: c.repeat(1000) }))
    for (const id of ['old-delivered', 'old-dead', 'old-queued']) await store.accept(meta(id, `sha256:${id}`), big(id[4]), record(meta(id, `sha256:${id}`)))
    await store.addEvent('TH-A', 'old-delivered', { type: 'delivered', at: new Date().toISOString(), attempt: 1 })
    await store.addEvent('TH-A', 'old-dead', { type: 'dead-lettered', at: new Date().toISOString(), attempt: 1, code: 'X' })
    // More traffic after them, as a running hub has.
    await store.accept(meta('later', 'sha256:later'), big('z'), record(meta('later', 'sha256:later')))
    t.equal(await store.expireBodies(new Date(0)), 0, 'nothing received before the epoch')
    t.equal(await store.expireBodies(new Date(Date.now() + 3_600_000)), 2, 'the two settled bodies go')
    const gone = (await store.get('TH-A', 'old-delivered'))!
    t.equal((await store.bodyOf(gone)).length, 0)
    t.equal(gone.state, 'delivered', 'the message itself stays')
    t.same(gone.events.map((e) => e.type), ['accepted', 'delivered'])
    t.same(await store.bodyOf((await store.get('TH-A', 'old-queued'))!), big('q'), 'a message still to deliver keeps its body')
    t.equal(await store.expireBodies(new Date(Date.now() + 3_600_000)), 0, 'expiring again removes nothing more')
    await store.close()
    const again = await loc.open()
    t.equal((await again.bodyOf((await again.get('TH-A', 'old-dead'))!)).length, 0, 'still gone after a reopen')
    t.same(await again.bodyOf((await again.get('TH-A', 'old-queued'))!), big('q'))
    t.equal((await again.get('TH-A', 'old-dead'))!.state, 'dead-lettered')
    await again.close()
  })
}
