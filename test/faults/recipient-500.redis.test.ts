import t from 'tap'
import { ownRedis } from '../helpers/own-redis.js'
import { caseDir, checkInvariant, clusterConfig, startHubs, startLoad, startRecipient } from './harness.js'

/**
 * The recipient answers 500 a few times before it takes a message: message i gets i % 4 refusals
 * (0 to 3), then 200. Each refusal is retried with backoff, and each shows in the status API as
 * one attempt-failed event; nothing is dead-lettered, nothing reaches the recipient twice.
 */
t.test('the recipient answers 500, then 200', async (t) => {
  const redis = await ownRedis(t)
  const dir = caseDir(t)
  const refusals = (key: string): number => Number(key.slice(-4)) % 4
  const recipient = await startRecipient(t, { hubTimeoutMs: 2000, behave: (key, n) => ({ status: n <= refusals(key) ? 500 : 200 }) })
  const cfg = clusterConfig(dir, 'f500', recipient.url, { initialBackoffMs: 100, maxBackoffMs: 400 })
  const hubs = await startHubs(t, cfg, redis.url, 2)

  const load = startLoad({ urls: () => hubs.map((h) => h.url), total: 240, idPrefix: 'r500' })
  await load.done
  const counts = await checkInvariant(t, {
    hubUrl: () => hubs[0].url,
    redisUrl: redis.url,
    prefix: 'f500',
    load,
    recipient,
    failed: (id, events, seen) => {
      const want = refusals(id)
      if (events.length !== want || seen !== want) return `${id}: ${events.length} attempt-failed events and ${seen} refusals at the recipient, want ${want}`
      if (!events.every((e) => e.code === 'EGIF_ERR_DELIVERY_TRANSIENT' && /answered 500/.test(e.detail ?? ''))) return `${id}: failed attempts not recorded as the 500 they were`
      return undefined
    }
  })
  t.equal(counts.accepted, 240, 'every message accepted')
  t.equal(counts.failedAttempts, [...load.accepted].reduce((n, id) => n + refusals(id), 0), 'as many attempt-failed events as 500 answers')
  t.equal(counts.duplicates, 0, 'a 500 is not a delivery: the recipient never saw a message it had already taken')
  for (const h of hubs) h.proc.kill('SIGTERM')
  t.same(await Promise.all(hubs.map(async (h) => await h.exited)), [0, 0], 'both processes stop cleanly')
})
