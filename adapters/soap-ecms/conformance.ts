import { defineConformance } from '../../conformance/adapters/index.js'
import { ecmsStandIn } from '../../conformance/adapters/stand-ins/ecms.js'
import soapEcms, { type SoapEcmsConfig } from './index.js'

/** The conformance subject of `soap-ecms`: a correspondence system's SOAP endpoint on loopback. */
export default defineConformance<SoapEcmsConfig>({
  adapter: soapEcms,
  config: { url: 'https://ecms.mfa.go.th/ws/egif', addressing: 'standard', headers: {}, pollMs: 5000 },
  peer: async () => {
    const s = await ecmsStandIn()
    let n = 0
    return {
      config: { url: s.url, pollMs: 20 },
      behaviours: ['accept', 'transient', 'permanent', 'hang'],
      behave: (b) => { s.behaviour = b },
      held: async () => s.held.size,
      produce: async () => {
        n++
        s.outbox.push({ id: `OUT-${n}`, kind: 'Letter', messageId: `MFA-LETTER-${n}`, receiver: 'TH-OCSC', documentType: 'gov-letter', contentType: 'application/xml', document: Buffer.from('<Note xmlns="urn:test:note:1" version="1.0"><Subject>ก</Subject></Note>').toString('base64') })
      },
      pending: async () => s.outbox.length,
      close: s.close
    }
  }
})
