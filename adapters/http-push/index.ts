import { type Adapter, defineAdapter, DeliveryHttpClient, type DeliveryHttpClientOptions, mergeHeaders, routingHeaders, throwForAnswer } from '../../src/adapters-sdk/index.js'

export interface HttpPushConfig {
  /** The recipient system's endpoint that takes the document by POST. */
  url: string
  /** Extra headers, e.g. the recipient's own credentials. Default none. */
  headers: Record<string, string>
}

/**
 * A fresh `http-push` with its own keep-alive connections (closed by its `close()`): POSTs the exact
 * bytes to the recipient's system with the routing header and the hub's seal. A 2xx answer means
 * delivered.
 */
export function createHttpPushAdapter (client: DeliveryHttpClientOptions = {}): Adapter<HttpPushConfig> {
  const http = new DeliveryHttpClient(client)
  return defineAdapter<HttpPushConfig>({
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
      // A configured header never doubles one of the routing headers, which win.
      const headers = mergeHeaders(ctx.config.headers, routingHeaders(msg))
      const answer = await http.request(ctx.config.url, { method: 'POST', headers, body: msg.body, signal: ctx.signal })
      throwForAnswer(answer, ctx.config.url)
    },
    close: async () => { await http.close() }
  })
}

/**
 * The built-in instance. Hubs in one process that share it share its connections; its `close()`
 * lets the requests in flight finish, and the next delivery opens new connections.
 */
export default createHttpPushAdapter()
