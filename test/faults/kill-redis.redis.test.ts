import t from 'tap'
import { until } from '../helpers/hub.js'
import { ownRedis } from '../helpers/own-redis.js'
import { QUEUES, caseDir, checkInvariant, clusterConfig, startHubs, startLoad, startRecipient } from './harness.js'

/**
 * Redis (AOF, appendfsync always) is killed with SIGKILL mid-burst and started again. While it is
 * away both hub processes answer 503 and readiness is false; senders send again; once it is back
 * the processes recover on their own and every message that got a 202 — before the crash or
 * after — is delivered.
 */
for (const queue of QUEUES) t.test(`kill -9 of Redis under load (${queue} queue)`, async (t) => {
  const redis = await ownRedis(t, ['--appendonly', 'yes', '--appendfsync', 'always'])
  const dir = caseDir(t)
  const recipient = await startRecipient(t, { hubTimeoutMs: 5000, behave: () => ({ status: 200, delayMs: 50 }) })
  const cfg = clusterConfig(dir, 'fredis', recipient.url, { timeoutMs: 5000 }, { queue })
  const hubs = await startHubs(t, cfg, redis.url, 2)

  const load = startLoad({ urls: () => hubs.map((h) => h.url), total: 300, idPrefix: 'redis', retryForMs: 40000 })
  await until(() => load.accepted.size >= 100, 'a third of the load accepted', 60000)
  await redis.kill()
  const acceptedBeforeCrash = load.accepted.size
  for (const h of hubs) {
    await until(async () => (await fetch(`${h.url}/ready`)).status === 503, 'readiness false while Redis is away', 10000)
  }
  t.pass('both processes report not ready while Redis is away')
  await until(() => (load.answers.get('503 EGIF_ERR_STORAGE_UNAVAILABLE') ?? 0) > 0, 'senders answered 503 while Redis is away', 10000)
  t.pass('intake answers 503 while Redis is away')
  t.equal((await fetch(`${hubs[0].url}/health`)).status, 200, 'the processes stay alive')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await redis.restart()
  for (const h of hubs) {
    await until(async () => (await fetch(`${h.url}/ready`)).status === 200, 'readiness back', 20000)
  }
  await load.done

  const counts = await checkInvariant(t, { hubUrl: () => hubs[1].url, redisUrl: redis.url, prefix: 'fredis', load, recipient })
  t.comment(`accepted before the crash ${acceptedBeforeCrash}`)
  t.equal(counts.accepted, 300, 'every message accepted, before the crash or after')
  for (const h of hubs) h.proc.kill('SIGTERM')
  t.same(await Promise.all(hubs.map(async (h) => await h.exited)), [0, 0], 'both processes stop cleanly')
})
