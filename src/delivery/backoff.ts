/** Backoff policy of the delivery worker (options in `delivery` of the configuration). */
export interface BackoffPolicy {
  /** Delay before the second attempt, in ms. */
  initialBackoffMs: number
  /** Largest delay between two attempts, in ms. */
  maxBackoffMs: number
}

/**
 * Delay before attempt `next` (2 for the first retry): exponential, capped, with "equal jitter"
 * (half fixed, half random) so that many messages failing together do not retry in step.
 * A recipient's own `Retry-After` wins when it asks for longer.
 */
export function backoffDelay (next: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, next - 2))
  const jittered = Math.round(exp / 2 + random() * (exp / 2))
  return retryAfterMs !== undefined ? Math.max(jittered, Math.min(retryAfterMs, policy.maxBackoffMs)) : jittered
}
