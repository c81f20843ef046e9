import t from 'tap'
import { Redis } from 'ioredis'
import { BullMqQueue, JOBS_PER_WORKER, workerShares } from '../../src/queue/bullmq.js'
import { SHARED_REDIS, commandsSent, redisPrefix } from '../helpers/redis.js'
import { queueContract } from './contract.js'
import { closesWhileRedisIsAway } from './redis-away.js'

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

t.test('a process\'s concurrency is spread over workers of at most JOBS_PER_WORKER jobs each', async (t) => {
  t.same(workerShares(512), Array(8).fill(64), '512 at once: 8 workers of 64')
  t.same(workerShares(200), [50, 50, 50, 50], 'as evenly as it goes')
  t.same(workerShares(65), [33, 32])
  t.same(workerShares(64), [64])
  t.same(workerShares(1), [1])
  for (const c of [1, 63, 64, 65, 100, 128, 129, 511, 512, 1024]) {
    const shares = workerShares(c)
    t.equal(shares.reduce((a, b) => a + b, 0), c, `${c}: the shares add up`)
    t.ok(shares.every((s) => s >= 1 && s <= JOBS_PER_WORKER), `${c}: each share within 1..${JOBS_PER_WORKER}`)
  }
})

t.test('the jobs running at once are held by several workers, none holding more than its share', async (t) => {
  const prefix = await redisPrefix(t)
  const q = new BullMqQueue(SHARED_REDIS, { prefix })
  const concurrency = JOBS_PER_WORKER * 2 + 10
  let running = 0
  let peak = 0
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  let full: () => void = () => {}
  const allRunning = new Promise<void>((resolve) => { full = resolve })
  q.process(async () => {
    running++
    peak = Math.max(peak, running)
    if (running === concurrency) full()
    await gate
    running--
  }, concurrency)
  for (let n = 0; n < concurrency + 20; n++) await q.add({ sender: 'TH-A', messageId: `m${n}`, attempt: 1, digest: `sha256:${n}` })
  await allRunning
  // A running job's lock holds its worker's token, `<worker id>:<n>`.
  const r = new Redis(SHARED_REDIS)
  t.teardown(() => { r.disconnect() })
  const locks: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:deliveries:*:lock`, 'COUNT', 1000)
    cursor = next
    locks.push(...keys)
  } while (cursor !== '0')
  const held = new Map<string, number>()
  for (const token of await r.mget(...locks)) {
    const worker = String(token).split(':')[0]
    held.set(worker, (held.get(worker) ?? 0) + 1)
  }
  t.equal(locks.length, concurrency, 'as many jobs locked as run at once')
  t.equal(held.size, workerShares(concurrency).length, 'held by that many workers')
  t.ok([...held.values()].every((n) => n <= JOBS_PER_WORKER), `none holds more than ${JOBS_PER_WORKER} (${[...held.values()].join(', ')})`)
  release()
  await q.close()
  t.equal(peak, concurrency, 'never more at once than the concurrency')
})

closesWhileRedisIsAway(t, (url) => new BullMqQueue(url, { prefix: 'close', closeWaitMs: 1000 }))

t.test('close waits for a delivery that runs longer than closeWaitMs while Redis answers', async (t) => {
  const prefix = await redisPrefix(t)
  const q = new BullMqQueue(SHARED_REDIS, { prefix, closeWaitMs: 200 })
  let finished = false
  let started: () => void = () => {}
  const running = new Promise<void>((resolve) => { started = resolve })
  q.process(async () => {
    started()
    await new Promise((resolve) => setTimeout(resolve, 1200))
    finished = true
  }, 4)
  await q.add({ sender: 'TH-A', messageId: 'long', attempt: 1, digest: 'sha256:long' })
  await running
  const counter = new BullMqQueue(SHARED_REDIS, { prefix })
  t.teardown(async () => { await counter.close() })
  await q.close()
  t.ok(finished, 'the delivery ran to its end')
  t.equal(await counter.count(), 0, 'and BullMQ recorded it: nothing waiting or active')
})
