import t from 'tap'
import { ownRedis } from '../helpers/own-redis.js'
import { caseDir, checkInvariant, clusterConfig, keyOf, startHubs, startLoad, startRecipient } from './harness.js'

const TIMEOUT_MS = 1500

/**
 * The recipient is slow: for one message in five, its first answer comes after the hub's delivery
 * timeout (it took the message, then answered late); later answers come in time. The hub records
 * the timeout, retries, and the recipient drops the repeat of what it already took. Every message
 * is delivered; every timed-out attempt shows as EGIF_ERR_DELIVERY_TIMEOUT.
 */
t.test('the recipient is slower than the delivery timeout, then in time', async (t) => {
  const redis = await ownRedis(t)
  const dir = caseDir(t)
  const slow = (key: string): boolean => Number(key.slice(-4)) % 5 === 0
  const recipient = await startRecipient(t, {
    hubTimeoutMs: TIMEOUT_MS,
    behave: (key, n) => ({ status: 200, delayMs: slow(key) && n === 1 ? TIMEOUT_MS + 1500 : 0 })
  })
  const cfg = clusterConfig(dir, 'fslow', recipient.url, { timeoutMs: TIMEOUT_MS, initialBackoffMs: 100, maxBackoffMs: 500 })
  const hubs = await startHubs(t, cfg, redis.url, 2)

  const load = startLoad({ urls: () => hubs.map((h) => h.url), total: 200, idPrefix: 'slow' })
  await load.done
  const counts = await checkInvariant(t, {
    hubUrl: () => hubs[1].url,
    redisUrl: redis.url,
    prefix: 'fslow',
    load,
    recipient,
    failed: (id, events, seen) => {
      const want = slow(keyOf(id)) ? 1 : 0
      if (events.length !== want || seen !== want) return `${id}: ${events.length} attempt-failed events, ${seen} late answers, want ${want}`
      if (!events.every((e) => e.code === 'EGIF_ERR_DELIVERY_TIMEOUT' && e.attempt === 1)) return `${id}: the late answer is not recorded as attempt 1 timed out`
      return undefined
    }
  })
  const slowOnes = [...load.accepted].filter((id) => slow(keyOf(id))).length
  t.equal(counts.accepted, 200, 'every message accepted')
  t.equal(counts.failedAttempts, slowOnes, 'one timed-out attempt recorded per slow message')
  t.equal(counts.duplicates, slowOnes, 'each message answered too late came again once, and the recipient dropped the repeat')
  for (const h of hubs) h.proc.kill('SIGTERM')
  t.same(await Promise.all(hubs.map(async (h) => await h.exited)), [0, 0], 'both processes stop cleanly')
})
