import t from 'tap'
import { JournalStore } from '../../src/store/journal-store.js'
import { tmpDir } from '../helpers/tmp.js'
import { meta, record, storeContract } from './contract.js'

storeContract(t, async (t) => {
  const dir = tmpDir(t)
  return { open: async () => await JournalStore.open(dir, { segmentBytes: 512 }) }
})

t.test('a settled message is read back from the journal as it was, events and receipts included', async (t) => {
  const store = await JournalStore.open(tmpDir(t), { segmentBytes: 512 })
  t.teardown(async () => { await store.close() })
  const first = await store.accept(meta('s1'), Buffer.from('{"n":1}'), record(meta('s1'), 3))
  await store.addEvent('TH-A', 's1', { type: 'attempt-failed', at: new Date(1).toISOString(), attempt: 1, code: 'X', nextAttemptAt: new Date(2).toISOString() })
  const delivered = { ...first.message.receipt, status: 'delivered' as const, deliveredAt: new Date(3).toISOString(), signature: 'sig2' }
  const live = structuredClone(await store.addEvent('TH-A', 's1', { type: 'delivered', at: new Date(3).toISOString(), attempt: 2 }, delivered))
  // Records of other messages after it, spread over further segments.
  for (let i = 0; i < 20; i++) await store.accept(meta(`x${i}`), Buffer.from('{}'), record(meta(`x${i}`)))
  t.same(await store.get('TH-A', 's1'), live, 'the same message, field for field')
  t.same(await store.withId('s1'), [live])
  t.equal((await store.bodyOf(live)).toString(), '{"n":1}')
  const dup = await store.accept(meta('s1'), Buffer.from('{"n":1}'), record(meta('s1')))
  t.same(dup, { message: live, duplicate: true }, 'a duplicate of it gets the original receipt')

  await store.accept(meta('d1'), Buffer.from('{}'), record(meta('d1')))
  await store.addEvent('TH-A', 'd1', { type: 'dead-lettered', at: new Date(5).toISOString(), attempt: 4, code: 'Y' })
  const replayed = await store.addEvent('TH-A', 'd1', { type: 'replayed', at: new Date(6).toISOString(), by: 'ops' })
  t.same(replayed.events.map((e) => e.type), ['accepted', 'dead-lettered', 'replayed'], 'a replay wakes the whole message up again')
  t.equal(replayed.state, 'queued')
  t.same((await store.undelivered()).map((m) => m.messageId).sort(), ['d1', ...Array.from({ length: 20 }, (_, i) => `x${i}`)].sort())
})
