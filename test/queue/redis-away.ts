import type { Test } from 'tap'
import { within, type DeliveryQueue } from '../../src/queue/queue.js'
import { ownRedis } from '../helpers/own-redis.js'

/**
 * A Redis queue driver's close while Redis is away: a hub stopping during an outage must stop, not
 * wait for Redis for ever. The job under way stays in Redis for a live process to take over.
 */
export function closesWhileRedisIsAway (t: Test, make: (url: string) => DeliveryQueue): void {
  t.test('close returns while Redis is away with a delivery under way', async (t) => {
    const redis = await ownRedis(t)
    const q = make(redis.url)
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => { release = resolve })
    let started: () => void = () => {}
    const running = new Promise<void>((resolve) => { started = resolve })
    q.process(async () => { started(); await held }, 4)
    await q.add({ sender: 'TH-A', messageId: 'away', attempt: 1, digest: 'sha256:away' })
    await running
    // The delivery is under way when Redis goes: its end cannot be recorded until Redis is back.
    await redis.kill()
    release()
    t.ok(await within(q.close(), 30_000), 'close gives up waiting for Redis and returns (within 30 s)')
  })
}
