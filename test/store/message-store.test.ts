import t from 'tap'
import { MessageStore } from '../../src/store/message-store.js'
import type { MessageMeta, Receipt } from '../../src/store/types.js'
import { tmpDir } from '../helpers/tmp.js'

function meta (id: string, digest = 'sha256:aa', sender = 'TH-A'): MessageMeta {
  return { messageId: id, sender, receiver: 'TH-B', documentType: 'x', documentVersion: '1', contentType: 'application/json', digest, size: 2, receivedAt: new Date(0).toISOString(), senderSignature: 'absent' }
}

function record (m: MessageMeta) {
  return (trail: Receipt['trail']) => ({ receipt: { ...m, status: 'accepted' as const, trail, signature: 'sig' }, seal: 'seal' })
}

t.test('accept, duplicate, conflict, and state rebuilt after reopen', async (t) => {
  const dir = tmpDir(t)
  const store = await MessageStore.open(dir, { logName: 'test' })
  const first = await store.accept(meta('m1'), Buffer.from('{}'), record(meta('m1')))
  t.equal(first.duplicate, false)
  t.same(first.message.receipt.trail, { log: 'test', index: 0 })
  const dup = await store.accept(meta('m1'), Buffer.from('{}'), record(meta('m1')))
  t.equal(dup.duplicate, true, 'same id and digest is a duplicate')
  t.equal(dup.message.receipt, first.message.receipt, 'with the original receipt')
  await t.rejects(store.accept(meta('m1', 'sha256:bb'), Buffer.from('{1}'), record(meta('m1'))), { code: 'EGIF_ERR_IDEMPOTENCY_CONFLICT' })
  const other = await store.accept(meta('m1', 'sha256:cc', 'TH-C'), Buffer.from('[]'), record(meta('m1', 'sha256:cc', 'TH-C')))
  t.equal(other.duplicate, false, 'ids are unique per sender, not across senders')
  t.equal(store.withId('m1').length, 2)

  await store.addEvent('TH-A', 'm1', { type: 'attempt-failed', at: new Date(1).toISOString(), attempt: 1, code: 'X', nextAttemptAt: new Date(2).toISOString() })
  await store.addEvent('TH-A', 'm1', { type: 'delivered', at: new Date(3).toISOString(), attempt: 2 })
  await store.recordRejection({ at: new Date(4).toISOString(), code: 'EGIF_ERR_SCHEMA_INVALID', status: 422, size: 10 })
  await store.close()

  const again = await MessageStore.open(dir, { logName: 'test' })
  const m = again.get('TH-A', 'm1')!
  t.equal(m.state, 'delivered')
  t.equal(m.attempts, 2)
  t.same(m.events.map((e) => e.type), ['accepted', 'attempt-failed', 'delivered'])
  t.equal(again.bodyOf(m).toString(), '{}')
  t.equal(again.get('TH-C', 'm1')!.state, 'queued')
  t.same(again.undelivered().map((x) => x.sender), ['TH-C'])
  t.equal(again.stats().rejections, 1)
  const next = await again.accept(meta('m2'), Buffer.from('{}'), record(meta('m2')))
  t.equal(next.message.receipt.trail.index, 5, 'sequence numbers continue after a reopen')
  await again.close()
})

t.test('concurrent submissions of one id store it once', async (t) => {
  const dir = tmpDir(t)
  const store = await MessageStore.open(dir)
  const results = await Promise.all(Array.from({ length: 20 }, async () => await store.accept(meta('same'), Buffer.from('{}'), record(meta('same')))))
  t.equal(results.filter((r) => !r.duplicate).length, 1, 'one stored')
  t.equal(results.filter((r) => r.duplicate).length, 19, 'the rest are duplicates')
  t.equal(store.stats().messages, 1)
  await store.close()
})

t.test('mailbox and dead letters follow events', async (t) => {
  const dir = tmpDir(t)
  const store = await MessageStore.open(dir)
  await store.accept(meta('a'), Buffer.from('{}'), record(meta('a')))
  await store.accept(meta('b'), Buffer.from('{}'), record(meta('b')))
  await store.addEvent('TH-A', 'a', { type: 'in-mailbox', at: new Date().toISOString(), attempt: 1 })
  await store.addEvent('TH-A', 'b', { type: 'dead-lettered', at: new Date().toISOString(), attempt: 1, code: 'EGIF_ERR_DELIVERY_PERMANENT' })
  t.same(store.inbox('TH-B').map((m) => m.messageId), ['a'])
  t.same(store.deadLetters().map((m) => m.messageId), ['b'])
  await store.addEvent('TH-A', 'b', { type: 'replayed', at: new Date().toISOString(), by: 'operator' })
  t.equal(store.get('TH-A', 'b')!.state, 'queued')
  t.equal(store.get('TH-A', 'b')!.attempts, 0, 'a replay starts the attempts again')
  await t.rejects(store.addEvent('TH-A', 'nope', { type: 'acked', at: '' }), { code: 'EGIF_ERR_NOT_FOUND' })
  await store.close()
})
