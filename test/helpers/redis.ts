import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'

/** The shared Redis of the machine (CI starts it). Tests never stop or reconfigure it. */
export const SHARED_REDIS = process.env.EGIF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A key prefix of the test's own on the shared Redis; its keys are deleted when the test ends.
 * Fails the test (never skips it) when Redis does not answer.
 */
export async function redisPrefix (t: Test, url = SHARED_REDIS): Promise<string> {
  const prefix = `egif-test-${randomUUID().slice(0, 8)}`
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  r.on('error', () => {})
  try {
    await r.connect()
    await r.ping()
  } catch (err) {
    throw new Error(`Redis at ${url} does not answer (${(err as Error).message}): tests named *.redis.test.ts need it`)
  }
  t.teardown(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await r.del(...keys)
    } while (cursor !== '0')
    r.disconnect()
  })
  return prefix
}
