import t from 'tap'
import { KEYS, until } from '../helpers/hub.js'
import { ownRedis } from '../helpers/own-redis.js'
import { caseDir, checkInvariant, clusterConfig, startHubs, startLoad, startRecipient } from './harness.js'

/**
 * The recipient system is down (nothing listens on its port) while a load comes in; every attempt
 * fails with a refused connection and is retried with backoff. It comes back: everything is
 * delivered once, and each message shows the attempts that failed while it was down.
 */
t.test('the recipient is down for a while, then up', async (t) => {
  const redis = await ownRedis(t)
  const dir = caseDir(t)
  const recipient = await startRecipient(t, { hubTimeoutMs: 2000, listening: false })
  const cfg = clusterConfig(dir, 'fdown', recipient.url, { initialBackoffMs: 200, maxBackoffMs: 1500 })
  const hubs = await startHubs(t, cfg, redis.url, 2)
  const status = async (id: string): Promise<{ events: Array<{ type: string }> }> =>
    await (await fetch(`${hubs[1].url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${KEYS.A}` } })).json() as { events: Array<{ type: string }> }

  const load = startLoad({ urls: () => hubs.map((h) => h.url), total: 200, idPrefix: 'down' })
  await load.done
  // Down long enough that the last message accepted has failed at least twice.
  const last = [...load.accepted].sort().at(-1)!
  await until(async () => (await status(last)).events.filter((e) => e.type === 'attempt-failed').length >= 2, 'the last message failed twice', 30000)
  await recipient.up()
  const upAt = Date.now()

  const counts = await checkInvariant(t, {
    hubUrl: () => hubs[0].url,
    redisUrl: redis.url,
    prefix: 'fdown',
    load,
    recipient,
    failed: (id, events, seen) => {
      if (seen !== 0) return `${id}: the recipient refused ${seen} times, yet it only ever answers 200`
      if (events.length === 0) return `${id}: accepted while the recipient was down, yet no failed attempt recorded`
      // An attempt refused just before the port opened is recorded a moment later, in another
      // process: a second of grace, no more.
      if (!events.every((e) => e.code === 'EGIF_ERR_DELIVERY_TRANSIENT' && /cannot reach/.test(e.detail ?? '') && Date.parse(e.at) < upAt + 1000)) return `${id}: a failed attempt that is not a refused connection while down`
      const attempts = events.map((e) => e.attempt)
      if (new Set(attempts).size !== attempts.length) return `${id}: attempt numbers repeat: ${attempts.join(',')}`
      return undefined
    }
  })
  t.equal(counts.accepted, 200, 'every message accepted while the recipient was down')
  t.ok(counts.failedAttempts >= 400, `at least two failed attempts recorded per message (${counts.failedAttempts})`)
  t.equal(counts.duplicates, 0, 'a refused connection is not a delivery: no repeats')
  for (const h of hubs) h.proc.kill('SIGTERM')
  t.same(await Promise.all(hubs.map(async (h) => await h.exited)), [0, 0], 'both processes stop cleanly')
})
