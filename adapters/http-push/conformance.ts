import { defineConformance } from '../../conformance/adapters/index.js'
import { httpStandIn } from '../../conformance/adapters/stand-ins/http.js'
import httpPush, { type HttpPushConfig } from './index.js'

/** The conformance subject of `http-push`: a recipient endpoint that keeps one copy per message id. */
export default defineConformance<HttpPushConfig>({
  adapter: httpPush,
  config: { url: 'http://127.0.0.1:9/inbound', headers: {} },
  peer: async () => {
    const held = new Set<string>()
    const s = await httpStandIn((req, b) => {
      if (b === 'transient') return { status: 503, headers: { 'retry-after': '1' } }
      if (b === 'permanent') return { status: 400, body: 'not a document we take' }
      held.add(`${String(req.headers['egif-sender'])}/${String(req.headers['egif-message-id'])}`)
      return { status: 200 }
    })
    return {
      config: { url: `${s.url}/inbound`, headers: {} },
      behaviours: ['accept', 'transient', 'permanent', 'hang'],
      behave: (b) => { s.behaviour = b },
      held: async () => held.size,
      close: s.close
    }
  }
})
