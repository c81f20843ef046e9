import t from 'tap'
import { StreamQueue } from '../../src/queue/redis-streams.js'
import { SHARED_REDIS, commandsSent, redisPrefix } from '../helpers/redis.js'
import { queueContract } from './contract.js'
import { closesWhileRedisIsAway } from './redis-away.js'

queueContract(t, async () => {
  const prefix = await redisPrefix(t)
  return new StreamQueue(SHARED_REDIS, { prefix })
})

const job = (messageId: string, attempt = 1): { sender: string, messageId: string, attempt: number, digest: string } => ({ sender: 'TH-A', messageId, attempt, digest: `sha256:${messageId}` })

t.test('an add is one script; a job taken is one read for the batch, a finished job one script', async (t) => {
  const prefix = await redisPrefix(t)
  const q = new StreamQueue(SHARED_REDIS, { prefix, promoteEveryMs: 60_000 })
  t.teardown(async () => { await q.close() })
  // The first add also loads the script: not what is counted.
  await q.add(job('first'))
  const adds = await commandsSent(prefix, async () => {
    await q.add(job('rt'))
    await t.rejects(q.add({ ...job('rt'), digest: 'sha256:other' }), /pending with other content \(sha256:rt\)/)
  })
  t.same(adds, ['script', 'script'], 'one script per add, the refused one too')
  const handled: string[] = []
  const taking = await commandsSent(prefix, async () => {
    q.process(async (j) => { handled.push(j.messageId) }, 8)
  }, { settled: (seen) => seen.filter((c) => c !== 'xgroup').length >= 4 })
  t.same(handled.sort(), ['first', 'rt'])
  const commands = taking.filter((c) => c !== 'xgroup')
  t.equal(commands[0], 'xreadgroup')
  t.same(commands.sort(), ['script', 'script', 'xreadgroup', 'xreadgroup'], 'both jobs in one read, a script each to finish them, and the next read, which waits')
  t.equal(await q.count(), 0, 'nothing left pending')
})

t.test('a job held by a process that stopped renewing it is taken over by another', async (t) => {
  const prefix = await redisPrefix(t)
  const lockDurationMs = 600
  const first = new StreamQueue(SHARED_REDIS, { prefix, lockDurationMs })
  const second = new StreamQueue(SHARED_REDIS, { prefix, lockDurationMs })
  t.teardown(async () => { await second.close() })
  let release!: () => void
  const stuck = new Promise<void>((resolve) => { release = resolve })
  let startedFirst!: () => void
  const tookIt = new Promise<void>((resolve) => { startedFirst = resolve })
  first.process(async () => {
    startedFirst()
    await stuck
  }, 1)
  await first.add(job('orphan'))
  await tookIt
  // The first process hangs: no renewals from here on (its timers stop, its handler never ends).
  const hung = first as unknown as { timers: NodeJS.Timeout[], renewTimer: NodeJS.Timeout }
  hung.timers.forEach(clearInterval)
  clearInterval(hung.renewTimer)
  const started = Date.now()
  const handledBySecond: string[] = []
  let done!: () => void
  const handled = new Promise<void>((resolve) => { done = resolve })
  second.process(async (j) => {
    handledBySecond.push(j.messageId)
    done()
  }, 1)
  await handled
  t.same(handledBySecond, ['orphan'])
  t.ok(Date.now() - started >= lockDurationMs * 0.8, 'not before the lock ran out')
  release()
  await first.close()
  t.equal(await second.count(), 0)
})

t.test('a process holding a job renews it: a long delivery is not taken over', async (t) => {
  const prefix = await redisPrefix(t)
  const lockDurationMs = 400
  const a = new StreamQueue(SHARED_REDIS, { prefix, lockDurationMs })
  const b = new StreamQueue(SHARED_REDIS, { prefix, lockDurationMs })
  t.teardown(async () => { await b.close() })
  const runs: string[] = []
  a.process(async () => {
    runs.push('a')
    await new Promise((resolve) => setTimeout(resolve, lockDurationMs * 4))
  }, 1)
  b.process(async () => { runs.push('b') }, 1)
  await a.add(job('long'))
  await new Promise((resolve) => setTimeout(resolve, lockDurationMs * 5))
  await a.close()
  t.equal(runs.length, 1, `handled once: ${runs.join(', ')}`)
  t.equal(await b.count(), 0)
})

t.test('jobs wait in Redis while no process takes them, and survive a new connection', async (t) => {
  const prefix = await redisPrefix(t)
  const q1 = new StreamQueue(SHARED_REDIS, { prefix })
  await q1.add(job('later', 2), { delayMs: 100 })
  await q1.add(job('now'))
  t.equal(await q1.count(), 2)
  await q1.close()
  await t.rejects(q1.add(job('x')), /closed/, 'a closed queue takes nothing')
  const q2 = new StreamQueue(SHARED_REDIS, { prefix })
  t.teardown(async () => { await q2.close() })
  const seen: string[] = []
  let done!: () => void
  const all = new Promise<void>((resolve) => { done = resolve })
  q2.process(async (j) => {
    seen.push(`${j.messageId}#${j.attempt}`)
    if (seen.length === 2) done()
  }, 4)
  await all
  t.same(seen.sort(), ['later#2', 'now#1'])
})

t.test('while close waits for a running job, that job may add its next attempt, and it is kept', async (t) => {
  const prefix = await redisPrefix(t)
  const q = new StreamQueue(SHARED_REDIS, { prefix })
  let started!: () => void
  const running = new Promise<void>((resolve) => { started = resolve })
  q.process(async (j) => {
    started()
    await new Promise((resolve) => setTimeout(resolve, 200))
    await q.add({ ...j, attempt: j.attempt + 1 }, { delayMs: 50 })
  }, 1)
  await q.add(job('retry'))
  await running
  await q.close()
  const next = new StreamQueue(SHARED_REDIS, { prefix })
  t.teardown(async () => { await next.close() })
  t.equal(await next.count(), 1, 'the next attempt waits in Redis')
  let got!: (attempt: number) => void
  const attempt = new Promise<number>((resolve) => { got = resolve })
  next.process(async (j) => { got(j.attempt) }, 1)
  t.equal(await attempt, 2)
})

closesWhileRedisIsAway(t, (url) => new StreamQueue(url, { prefix: 'close' }))
