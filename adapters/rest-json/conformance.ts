import { defineConformance } from '../../conformance/adapters/index.js'
import { httpStandIn } from '../../conformance/adapters/stand-ins/http.js'
import restJson, { type RestJsonConfig } from './index.js'

/**
 * The conformance subject of `rest-json`: an agency API that keeps one record per
 * `Idempotency-Key` and answers `409` to a repeat, as such APIs do.
 */
export default defineConformance<RestJsonConfig>({
  adapter: restJson,
  config: {
    url: 'https://api.bb.go.th/v1/disbursement-requests/{messageId}',
    method: 'PUT',
    headers: { 'x-agency': 'TH-EGIF-HUB' },
    duplicateStatuses: [409],
    routingHeaders: false
  },
  peer: async () => {
    const held = new Set<string>()
    const s = await httpStandIn((req, b) => {
      if (b === 'transient') return { status: 503 }
      if (b === 'permanent') return { status: 422, body: '{"error":"amount must be positive"}' }
      const key = String(req.headers['idempotency-key'])
      if (held.has(key)) return { status: 409, body: '{"error":"duplicate"}' }
      held.add(key)
      return { status: 201, body: '{"status":"created"}' }
    })
    return {
      config: { url: `${s.url}/v1/items`, headers: {} },
      behaviours: ['accept', 'transient', 'permanent', 'hang'],
      behave: (b) => { s.behaviour = b },
      held: async () => held.size,
      close: s.close
    }
  }
})
