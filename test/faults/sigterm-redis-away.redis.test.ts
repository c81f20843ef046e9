import t from 'tap'
import { within } from '../../src/queue/queue.js'
import { until } from '../helpers/hub.js'
import { ownRedis } from '../helpers/own-redis.js'
import { caseDir, clusterConfig, QUEUES, startHub, startLoad, startRecipient } from './harness.js'

/**
 * A hub process gets SIGTERM while Redis is unreachable and deliveries are under way on it. It
 * cannot record their end, but it must still stop (a supervisor that waits for it would otherwise
 * have to kill it), with each queue driver.
 */
for (const queue of QUEUES) {
  t.test(`SIGTERM while Redis is away (${queue})`, async (t) => {
    const redis = await ownRedis(t)
    const dir = caseDir(t)
    const recipient = await startRecipient(t, { hubTimeoutMs: 5000, behave: () => ({ status: 200, delayMs: 1500 }) })
    const hub = await startHub(t, clusterConfig(dir, `away-${queue}`, recipient.url, { timeoutMs: 5000 }, { queue }), redis.url)
    const load = startLoad({ urls: () => [hub.url], total: 20, idPrefix: 'away', retryForMs: 0 })
    await until(() => recipient.inFlight >= 2, 'deliveries under way', 60_000)
    await redis.kill()
    hub.proc.kill('SIGTERM')
    t.ok(await within(hub.exited, 60_000), 'the process stops (within 60 s of SIGTERM)')
    await load.done
  })
}
