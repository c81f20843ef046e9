import { defineAdapter, PermanentDeliveryError, routingHeaders, TransientDeliveryError } from '../../src/adapters-sdk/index.js'

export interface HttpPushConfig {
  /** The recipient system's endpoint that takes the document by POST. */
  url: string
  /** Extra headers, e.g. the recipient's own credentials. Default none. */
  headers: Record<string, string>
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs (value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Decides retry or dead letter from an HTTP status: 2xx done, 408/425/429 and 5xx retried, other 4xx refused for good. */
export function classifyStatus (status: number): 'delivered' | 'transient' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered'
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient'
  return 'permanent'
}

/**
 * `http-push`: POSTs the exact bytes to the recipient's system with the routing header and the
 * hub's seal. A 2xx answer means delivered.
 */
export default defineAdapter<HttpPushConfig>({
  name: 'http-push',
  description: 'POST the document, unchanged, with the EGIF routing headers and seal to the recipient\'s HTTP endpoint.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} }
    }
  },
  async deliver (msg, ctx) {
    let res: Response
    try {
      res = await fetch(ctx.config.url, {
        method: 'POST',
        headers: { ...ctx.config.headers, ...routingHeaders(msg) },
        body: msg.body as Uint8Array<ArrayBuffer>,
        signal: ctx.signal,
        redirect: 'manual'
      })
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } }
      if (ctx.signal.aborted) throw new TransientDeliveryError(`no answer from ${ctx.config.url} in time`, { code: 'EGIF_ERR_DELIVERY_TIMEOUT', cause: err })
      throw new TransientDeliveryError(`cannot reach ${ctx.config.url}: ${e.cause?.code ?? e.message}`, { cause: err })
    }
    // Read (and drop) the answer so the connection can be reused; keep a little for the event log.
    const text = (await res.text().catch(() => '')).slice(0, 200)
    const kind = classifyStatus(res.status)
    if (kind === 'delivered') return
    const detail = `${ctx.config.url} answered ${res.status}${text !== '' ? `: ${text}` : ''}`
    if (kind === 'transient') throw new TransientDeliveryError(detail, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) })
    throw new PermanentDeliveryError(detail)
  }
})
