import t from 'tap'
import { KEYS, NOTE, until } from '../helpers/hub.js'
import { ownRedis } from '../helpers/own-redis.js'
import { caseDir, checkInvariant, clusterConfig, RECEIVER, SENDER, startHub, startHubs, startLoad, startRecipient } from './harness.js'

/**
 * One of two hub processes gets SIGTERM mid-burst while deliveries are in flight on it. It must
 * answer readiness false and 503 to new messages while it drains, let the deliveries it runs finish
 * (none cut off), and exit 0. The senders move to the other process; the stopped one is started
 * again and takes its share; nothing accepted is lost.
 */
t.test('SIGTERM under load', async (t) => {
  const redis = await ownRedis(t)
  const dir = caseDir(t)
  // Answers are quick until just before the stop; then each takes 1.5 s, so every delivery the
  // stopping process has in flight (a backlog keeps all its slots busy) outlasts many probes.
  let slow = false
  const recipient = await startRecipient(t, { hubTimeoutMs: 5000, behave: () => ({ status: 200, delayMs: slow ? 1500 : 50 }) })
  const cfg = clusterConfig(dir, 'fterm', recipient.url, { timeoutMs: 5000 })
  const [stopping, other] = await startHubs(t, cfg, redis.url, 2)
  const port = Number(new URL(stopping.url).port)
  let urls = [stopping.url, other.url]

  const load = startLoad({ urls: () => urls, total: 300, idPrefix: 'term', retryForMs: 30000 })
  await until(() => load.accepted.size >= 100 && recipient.inFlight >= 6, 'a third of the load accepted, deliveries in flight', 60000)
  slow = true
  // Quick deliveries finish and both workers take slow ones (4 slots each, 8 in all).
  await until(() => recipient.inFlight >= 8, 'every delivery slot busy with a slow delivery', 30000)
  stopping.proc.kill('SIGTERM')

  // Watch the stopping process until it exits: once it says not ready, it never says ready again,
  // and new messages get 503.
  const seen = { ready: 0, notReady: 0, readyAfterNotReady: 0, refused503: 0, accepted: 0 }
  let exited = false
  void stopping.exited.then(() => { exited = true })
  let n = 0
  while (!exited) {
    try {
      const r = await fetch(`${stopping.url}/ready`)
      const body = await r.json() as { ready: boolean, reason?: string }
      if (r.status === 503 && body.ready === false && body.reason === 'shutting down') seen.notReady++
      else if (r.status === 200) { if (seen.notReady > 0) seen.readyAfterNotReady++; else seen.ready++ }
      if (seen.notReady > 0) {
        const id = `term-probe-${n++}`
        const res = await fetch(`${stopping.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.A}`, 'content-type': 'application/xml', 'egif-message-id': id, 'egif-sender': SENDER, 'egif-receiver': RECEIVER },
          body: NOTE(id)
        })
        const problem = await res.json() as { code?: string }
        if (res.status === 503 && problem.code === 'EGIF_ERR_SHUTTING_DOWN') seen.refused503++
        else if (res.status === 202) seen.accepted++
      }
    } catch { /* it stopped listening */ }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  slow = false
  t.equal(await stopping.exited, 0, 'the process exits 0 on SIGTERM')
  t.comment(`while draining: readiness false ${seen.notReady} times, new messages refused with 503 ${seen.refused503} times`)
  t.ok(seen.notReady > 0, 'readiness turned false while it drained')
  t.equal(seen.readyAfterNotReady, 0, 'and never back to ready')
  t.ok(seen.refused503 > 0, 'new messages got 503 EGIF_ERR_SHUTTING_DOWN while it drained')
  t.equal(seen.accepted, 0, 'and none was accepted after the stop began')
  t.equal(recipient.cutOff, 0, 'no delivery was cut off: the deliveries in flight finished')

  // The senders use the other process; then the stopped one comes back on its port.
  urls = [other.url]
  const restarted = await startHub(t, cfg, redis.url, port)
  urls = [restarted.url, other.url]
  await load.done

  const counts = await checkInvariant(t, { hubUrl: () => restarted.url, redisUrl: redis.url, prefix: 'fterm', load, recipient })
  t.equal(counts.accepted, 300, 'every message accepted, by one process or the other')
  t.equal(counts.duplicates, 0, 'a clean stop repeats nothing')
  for (const h of [restarted, other]) h.proc.kill('SIGTERM')
  t.same(await Promise.all([restarted.exited, other.exited]), [0, 0], 'both stop cleanly')
})
