import t from 'tap'
import { backoffDelay } from '../../src/delivery/backoff.js'
import { httpOutcome as classifyStatus, parseRetryAfter as retryAfterMs } from '../../src/adapters-sdk/http.js'

const policy = { initialBackoffMs: 1000, maxBackoffMs: 30000 }

t.test('exponential with equal jitter, capped', async (t) => {
  t.equal(backoffDelay(2, policy, undefined, () => 0), 500, 'first retry: half of the initial delay at least')
  t.equal(backoffDelay(2, policy, undefined, () => 1), 1000, 'and the initial delay at most')
  t.equal(backoffDelay(3, policy, undefined, () => 1), 2000)
  t.equal(backoffDelay(5, policy, undefined, () => 1), 8000)
  t.equal(backoffDelay(30, policy, undefined, () => 1), 30000, 'capped')
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, policy)))
  t.ok(spread.size > 10, 'jitter spreads retries')
  for (const d of spread) t.ok(d >= 2000 && d <= 4000)
})

t.test('Retry-After wins when it asks for longer, within the cap', async (t) => {
  t.equal(backoffDelay(2, policy, 20000, () => 0), 20000)
  t.equal(backoffDelay(2, policy, 100, () => 1), 1000, 'a shorter Retry-After does not hurry the backoff')
  t.equal(backoffDelay(2, policy, 999999, () => 0), 30000, 'capped by maxBackoffMs')
})

t.test('HTTP adapters classify statuses and parse Retry-After', async (t) => {
  t.equal(classifyStatus(200), 'delivered')
  t.equal(classifyStatus(204), 'delivered')
  t.equal(classifyStatus(400), 'permanent')
  t.equal(classifyStatus(404), 'permanent')
  t.equal(classifyStatus(408), 'transient')
  t.equal(classifyStatus(429), 'transient')
  t.equal(classifyStatus(500), 'transient')
  t.equal(classifyStatus(503), 'transient')
  t.equal(classifyStatus(302), 'permanent', 'a redirect is not followed: the configured URL is wrong')
  t.equal(retryAfterMs('120'), 120000)
  t.equal(retryAfterMs(new Date(10000 + 5000).toUTCString(), 10000), 5000)
  t.equal(retryAfterMs(null), undefined)
  t.equal(retryAfterMs('soon'), undefined)
})
