import t from 'tap'
import { Redis } from 'ioredis'
import { RedisStore } from '../../src/store/redis-store.js'
import { SHARED_REDIS, commandsSent, redisPrefix } from '../helpers/redis.js'
import { meta, record, storeContract } from './contract.js'

storeContract(t, async (t) => {
  const prefix = await redisPrefix(t)
  return { open: async () => await RedisStore.open(SHARED_REDIS, { prefix }) }
})

t.test('an unreachable Redis is a clear storage error', async (t) => {
  await t.rejects(RedisStore.open('redis://127.0.0.1:9', {}, { retryStrategy: () => null }), { code: 'EGIF_ERR_STORAGE_UNAVAILABLE', message: /cannot connect to Redis/ })
})

t.test('each store call is one command: writes answer with the message, a read brings the body along', async (t) => {
  const prefix = await redisPrefix(t)
  const store = await RedisStore.open(SHARED_REDIS, { prefix })
  t.teardown(async () => { await store.close() })
  const m = meta('rt')

  t.same(await commandsSent(prefix, async () => {
    const r = await store.accept(m, Buffer.from('{"a":1}'), record(m))
    t.equal(r.duplicate, false)
    t.same(r.message.events, [{ type: 'accepted', at: m.receivedAt }])
    t.equal(r.message.state, 'queued')
  }), ['script'], 'accept: one script, no read after it')

  t.same(await commandsSent(prefix, async () => {
    const r = await store.accept(m, Buffer.from('{"a":1}'), record(m))
    t.equal(r.duplicate, true, 'the duplicate is answered from the script too')
  }), ['script'])

  t.same(await commandsSent(prefix, async () => {
    const got = (await store.get('TH-A', 'rt'))!
    t.equal((await store.bodyOf(got)).toString(), '{"a":1}')
  }), ['hmget'], 'get and bodyOf of what it returned: one HMGET')

  t.same(await commandsSent(prefix, async () => {
    const after = await store.addEvent('TH-A', 'rt', { type: 'in-mailbox', at: new Date(5).toISOString(), attempt: 1 })
    t.equal(after.state, 'in-mailbox')
    t.same(after.events.map((e) => e.type), ['accepted', 'in-mailbox'])
    t.equal(after.attempts, 1)
  }), ['script'], 'addEvent: one script that answers with the message, also when it enters the mailbox')
  t.same((await store.inbox('TH-B')).messages.map((x) => x.messageId), ['rt'])

  const delivered = { ...(await store.get('TH-A', 'rt'))!.receipt, status: 'delivered' as const, signature: 'd' }
  const acked = await store.addEvent('TH-A', 'rt', { type: 'acked', at: new Date(6).toISOString(), by: 'TH-B' }, delivered)
  t.same(acked.deliveredReceipt, delivered)
  t.same((await store.inbox('TH-B')).messages, [], 'leaving the mailbox takes it out of the mailbox index')
  t.same(await store.get('TH-A', 'rt'), acked, 'what addEvent answers is what a read finds')
})

t.test('a message stored by an earlier version, with its events in a list of their own', async (t) => {
  const prefix = await redisPrefix(t)
  const redis = new Redis(SHARED_REDIS)
  t.teardown(() => { redis.disconnect() })
  const m = meta('old', 'sha256:old')
  const { receipt, seal } = await record(m)()
  const events = [{ type: 'accepted', at: m.receivedAt }, { type: 'attempt-failed', at: new Date(1).toISOString(), attempt: 1, code: 'X' }]
  // The layout earlier versions wrote: no `events` field in the hash.
  await redis.hset(`${prefix}:m:TH-A/old`, 'meta', JSON.stringify(m), 'receipt', JSON.stringify(receipt), 'seal', seal, 'body', '{"old":1}', 'state', 'queued', 'attempts', 1)
  await redis.rpush(`${prefix}:e:TH-A/old`, ...events.map((e) => JSON.stringify(e)))
  await redis.sadd(`${prefix}:id:old`, 'TH-A')
  await redis.sadd(`${prefix}:queued`, 'TH-A/old')
  const store = await RedisStore.open(SHARED_REDIS, { prefix })
  t.teardown(async () => { await store.close() })

  const got = (await store.get('TH-A', 'old'))!
  t.same(got.events, events, 'read with its events from the list')
  t.equal((await store.bodyOf(got)).toString(), '{"old":1}')
  t.same((await store.withId('old'))[0].events, events)
  t.same((await store.undelivered()).map((x) => x.events), [events])
  const dup = await store.accept(m, Buffer.from('{"old":1}'), record(m))
  t.equal(dup.duplicate, true)
  t.same(dup.message.events, events, 'a duplicate is answered with them too')
  await t.rejects(store.accept({ ...m, digest: 'sha256:new' }, Buffer.from('{}'), record(m)), { code: 'EGIF_ERR_IDEMPOTENCY_CONFLICT' })

  const after = await store.addEvent('TH-A', 'old', { type: 'delivered', at: new Date(2).toISOString(), attempt: 2 })
  t.same(after.events.map((e) => e.type), ['accepted', 'attempt-failed', 'delivered'], 'the next event follows the earlier ones')
  t.equal(after.attempts, 2)
  t.equal(await redis.exists(`${prefix}:e:TH-A/old`), 0, 'and the list is gone: the events are in the hash now')
  t.same((await store.get('TH-A', 'old'))!.events, after.events)
  t.same(await store.undelivered(), [])
})
