import t from 'tap'
import { until } from '../helpers/hub.js'
import { ownRedis } from '../helpers/own-redis.js'
import { QUEUES, caseDir, checkInvariant, clusterConfig, startHubs, startLoad, startRecipient } from './harness.js'

/**
 * Two hub processes share a load; one is killed with SIGKILL mid-burst while deliveries are in
 * flight on it. Senders whose request died with it send again to the other process (a 200 with the
 * original receipt if the first try was stored). The deliveries the dead process held are taken
 * over by the survivor once their lock expires (cluster.lockDurationMs, 2 s here); a message the
 * dead process stored but never queued is found by the survivor's sweep.
 */
for (const queue of QUEUES) t.test(`kill -9 of a hub process under load (${queue} queue)`, async (t) => {
  const redis = await ownRedis(t)
  const dir = caseDir(t)
  // Each answer takes a while, so both processes hold deliveries at the kill.
  const recipient = await startRecipient(t, { hubTimeoutMs: 5000, behave: () => ({ status: 200, delayMs: 150 }) })
  const cfg = clusterConfig(dir, 'fkill', recipient.url, { timeoutMs: 5000 }, { queue })
  const [victim, survivor] = await startHubs(t, cfg, redis.url, 2)
  let urls = [victim.url, survivor.url]

  const load = startLoad({ urls: () => urls, total: 300, idPrefix: 'kill', retryForMs: 30000 })
  await until(() => load.accepted.size >= 100 && recipient.inFlight >= 6, 'a third of the load accepted, deliveries in flight', 60000)
  victim.proc.kill('SIGKILL')
  t.equal(await victim.exited, 'SIGKILL', 'the process was killed hard')
  urls = [survivor.url]
  await load.done

  const counts = await checkInvariant(t, { hubUrl: () => survivor.url, redisUrl: redis.url, prefix: 'fkill', load, recipient })
  t.equal(counts.accepted, 300, 'every message accepted, by one process or the other')
  // A delivery the killed process held was either cut off mid-request or answered and never
  // recorded; either way the survivor made it again after the lock expired.
  t.ok(recipient.cutOff + counts.duplicates > 0, `the killed process held deliveries that the survivor took over (${recipient.cutOff} cut off, ${counts.duplicates} repeated)`)
  t.ok(counts.duplicates <= 4, `at most one repeat per delivery the killed process held (concurrency 4): ${counts.duplicates}`)
  survivor.proc.kill('SIGTERM')
  t.equal(await survivor.exited, 0, 'the survivor stops cleanly')
})
