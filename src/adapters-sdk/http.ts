import { PermanentDeliveryError, TransientDeliveryError } from './errors.js'

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter (value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Retry or dead letter from an HTTP status: 2xx done, 408/425/429 and 5xx retried, other 4xx refused for good. */
export function httpOutcome (status: number): 'delivered' | 'transient' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered'
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient'
  return 'permanent'
}

/**
 * `fetch` for adapters: the signal is passed on, and a failure to get an answer becomes a typed
 * error — `EGIF_ERR_DELIVERY_TIMEOUT` when the attempt's signal fired, transient otherwise.
 */
export async function fetchForDelivery (url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  try {
    return await fetch(url, { redirect: 'manual', ...init })
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } }
    if (init.signal.aborted) throw new TransientDeliveryError(`no answer from ${url} in time`, { code: 'EGIF_ERR_DELIVERY_TIMEOUT', cause: err })
    throw new TransientDeliveryError(`cannot reach ${url}: ${e.cause?.code ?? e.message}`, { cause: err })
  }
}

/** Throws the typed error an HTTP status calls for (nothing for a 2xx). */
export function throwForStatus (res: Response, text: string, url: string): void {
  const kind = httpOutcome(res.status)
  if (kind === 'delivered') return
  const detail = `${url} answered ${res.status}${text !== '' ? `: ${text.slice(0, 200)}` : ''}`
  if (kind === 'transient') throw new TransientDeliveryError(detail, { retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) })
  throw new PermanentDeliveryError(detail)
}
