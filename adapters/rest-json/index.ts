import {
  applyMapping, defineAdapter, DeliveryHttpClient, fieldMappingSchema, mergeHeaders, PermanentDeliveryError, routingHeaders, throwForAnswer, TransientDeliveryError,
  type FieldMapping, type StandardMessage
} from '../../src/adapters-sdk/index.js'
import { HubError } from '../../src/errors.js'

/** How the agency API authenticates the hub. Secrets are read from the environment at delivery. */
export type RestAuth =
  | { type: 'bearer', tokenEnv: string }
  | { type: 'api-key', keyEnv: string, /** Default `x-api-key`. */ header: string }

export interface RestJsonConfig {
  /** The endpoint; `{messageId}`, `{sender}`, `{receiver}`, `{documentType}` are replaced (URL-encoded). */
  url: string
  /** Default `POST`. */
  method: 'POST' | 'PUT'
  auth?: RestAuth
  /** Extra, non-secret headers. Default none. */
  headers: Record<string, string>
  /**
   * Builds the API's JSON from `{ document, routing, acceptedAt, digest }`, e.g.
   * `{ "requestNo": "document.requestId", "ref": "routing.messageId" }`. Without it the document's
   * exact bytes are sent (XML or JSON).
   */
  mapping?: FieldMapping
  /** Answers that mean "I already have this message id": delivered. Default `[409]`. */
  duplicateStatuses: number[]
  /** Send the `EGIF-*` routing headers and seal beside `Idempotency-Key`. Default `true`. */
  routingHeaders: boolean
}

/** The request `deliver` makes, without the credentials (pure, so fixtures can check it). */
export interface RestRequest {
  method: 'POST' | 'PUT'
  url: string
  headers: Record<string, string>
  /** Mapped JSON, or the document's text when there is no mapping. */
  body: unknown
}

function fillUrl (template: string, msg: StandardMessage): string {
  const r = msg.routing
  const values: Record<string, string> = { messageId: r.messageId, sender: r.sender, receiver: r.receiver, documentType: r.documentType }
  return template.replace(/\{(messageId|sender|receiver|documentType)\}/g, (_m, k: string) => encodeURIComponent(values[k]))
}

/** The agency API's request for a standard message. Pure. */
export function restRequest (msg: StandardMessage, config: RestJsonConfig): RestRequest {
  const base: Record<string, string> = {
    ...config.headers,
    ...(config.routingHeaders ? routingHeaders(msg) : {}),
    // The API's own idempotency header: a retry carries the same key, so the API can drop it.
    'idempotency-key': `${msg.routing.sender}:${msg.routing.messageId}`
  }
  if (config.mapping === undefined) {
    return { method: config.method, url: fillUrl(config.url, msg), headers: { ...base, 'content-type': msg.contentType }, body: msg.body.toString('utf8') }
  }
  if (!/json/i.test(msg.contentType)) {
    throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `a field mapping needs a JSON document; ${msg.routing.documentType} is ${msg.contentType}`)
  }
  const document: unknown = JSON.parse(msg.body.toString('utf8'))
  const source = { document, routing: msg.routing, acceptedAt: msg.acceptedAt, digest: msg.digest }
  return { method: config.method, url: fillUrl(config.url, msg), headers: { ...base, 'content-type': 'application/json' }, body: applyMapping(source, config.mapping) }
}

function authHeaders (auth: RestAuth | undefined, env: NodeJS.ProcessEnv): Record<string, string> {
  if (auth === undefined) return {}
  const name = auth.type === 'bearer' ? auth.tokenEnv : auth.keyEnv
  const secret = env[name]
  // A missing secret is the operator's to fix; retrying keeps the message until it is set.
  if (secret === undefined || secret === '') throw new TransientDeliveryError(`the environment variable ${name} (rest-json ${auth.type} credential) is not set`, { code: 'EGIF_ERR_ADAPTER_CONFIG' })
  return auth.type === 'bearer' ? { authorization: `Bearer ${secret}` } : { [(auth.header ?? 'x-api-key').toLowerCase()]: secret }
}

/**
 * `rest-json`: a modern agency API (such as the government data exchange's REST services). Sends
 * each message once per message id (`Idempotency-Key`), optionally mapped field by field into the
 * API's JSON, authenticated by a bearer token or an API key.
 */
/** Keep-alive connections to the agency APIs, shared by the hubs of one process. */
const http = new DeliveryHttpClient()

export default defineAdapter<RestJsonConfig, RestRequest>({
  name: 'rest-json',
  description: 'Send each document to an agency REST API as JSON (mapped field by field, or as is), with a bearer token or API key.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      method: { enum: ['POST', 'PUT'], default: 'POST' },
      auth: {
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['type', 'tokenEnv'], properties: { type: { const: 'bearer' }, tokenEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } } },
          { type: 'object', additionalProperties: false, required: ['type', 'keyEnv'], properties: { type: { const: 'api-key' }, keyEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, header: { type: 'string', pattern: '^[A-Za-z0-9-]+$', default: 'x-api-key' } } }
        ]
      },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      mapping: fieldMappingSchema,
      duplicateStatuses: { type: 'array', items: { type: 'integer', minimum: 200, maximum: 599 }, default: [409] },
      routingHeaders: { type: 'boolean', default: true }
    }
  },
  fromStandard: restRequest,
  async deliver (msg, ctx) {
    let req: RestRequest
    try {
      req = restRequest(msg, ctx.config)
    } catch (err) {
      // The same document will not map tomorrow either.
      throw new PermanentDeliveryError((err as Error).message, { code: 'EGIF_ERR_ADAPTER_MAPPING', cause: err })
    }
    const auth = authHeaders(ctx.config.auth, process.env)
    const answer = await http.request(req.url, {
      method: req.method,
      headers: mergeHeaders(req.headers, auth),
      body: typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
      signal: ctx.signal
    })
    if (ctx.config.duplicateStatuses.includes(answer.status)) {
      ctx.log.info({ status: answer.status }, 'the API already had this message id: delivered')
      return
    }
    throwForAnswer(answer, req.url)
  },
  // The requests in flight finish; the next delivery opens new connections.
  close: async () => { await http.close() }
})
