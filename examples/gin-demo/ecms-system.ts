import { readFileSync } from 'node:fs'
import { ecmsStandIn, type EcmsStandIn } from '../../conformance/adapters/stand-ins/ecms.js'

/**
 * MFA's correspondence (ECMS) system for the demo: the SOAP stand-in the soap-ecms tests use, on
 * a fixed port. Its outbox starts with one letter for OCSC, which the hub's soap-ecms adapter
 * polls, sends through the hub and deletes.
 */
export async function startEcmsSystem (port: number): Promise<EcmsStandIn> {
  const ecms = await ecmsStandIn(port)
  const letter = readFileSync(new URL('./messages/letter-mfa-to-ocsc.xml', import.meta.url))
  ecms.outbox.push({ id: 'MFA-OUT-0001', kind: 'Letter', messageId: 'MFA-ECMS-0001', receiver: 'TH-OCSC', documentType: 'gov-letter', contentType: 'application/xml', document: letter.toString('base64') })
  return ecms
}
