import { defineAdapter, fetchForDelivery, routingHeaders, throwForStatus } from '../../src/adapters-sdk/index.js'

export interface HttpPushConfig {
  /** The recipient system's endpoint that takes the document by POST. */
  url: string
  /** Extra headers, e.g. the recipient's own credentials. Default none. */
  headers: Record<string, string>
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
    const res = await fetchForDelivery(ctx.config.url, {
      method: 'POST',
      headers: { ...ctx.config.headers, ...routingHeaders(msg) },
      body: msg.body as Uint8Array<ArrayBuffer>,
      signal: ctx.signal
    })
    // Read (and drop) the answer so the connection can be reused; a little of it goes in the event.
    throwForStatus(res, await res.text().catch(() => ''), ctx.config.url)
  }
})
