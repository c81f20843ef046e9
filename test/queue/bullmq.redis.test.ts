import t from 'tap'
import { BullMqQueue } from '../../src/queue/bullmq.js'
import { SHARED_REDIS, commandsSent, redisPrefix } from '../helpers/redis.js'
import { queueContract } from './contract.js'

queueContract(t, async () => {
  const prefix = await redisPrefix(t)
  return new BullMqQueue(SHARED_REDIS, { prefix })
})

t.test('an add is one script and one read of the job\'s data, never the whole job', async (t) => {
  const prefix = await redisPrefix(t)
  const q = new BullMqQueue(SHARED_REDIS, { prefix })
  t.teardown(async () => { await q.close() })
  const job = { sender: 'TH-A', messageId: 'rt', attempt: 1, digest: 'sha256:rt' }
  // The first add also loads BullMQ's scripts and reads the Redis version: not what is counted.
  await q.add({ ...job, messageId: 'first' })
  const seen = await commandsSent(prefix, async () => {
    await q.add(job)
    await t.rejects(q.add({ ...job, digest: 'sha256:other' }), /exists with digest sha256:rt/)
  }, { args: true })
  t.same(seen, ['script', 'hget data', 'script', 'hget data'])
})
