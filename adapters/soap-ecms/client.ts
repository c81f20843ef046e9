import { fetchForDelivery, httpOutcome, parseRetryAfter, PermanentDeliveryError, TransientDeliveryError } from '../../src/adapters-sdk/index.js'
import { HubError } from '../../src/errors.js'
import type { SoapCall, SoapEcmsConfig } from './operations.js'
import { parseEnvelope, type Node } from './soap.js'

/** Fault detail codes that mean "I already have this message": the call succeeded before. */
const ALREADY_HAVE = new Set(['DuplicateMessage', 'AlreadyReceived'])

/**
 * Makes one SOAP call and returns the response element, or `null` when the peer says it already
 * has the message. Typed errors decide retry or dead letter: `soap:Client` faults and other 4xx
 * answers are permanent; `soap:Server` faults, 5xx, no answer and answers outside the protocol are
 * transient.
 */
export async function soapCall (config: SoapEcmsConfig, c: SoapCall, expect: string, signal: AbortSignal): Promise<Node | null> {
  const res = await fetchForDelivery(config.url, {
    method: 'POST',
    headers: { ...config.headers, 'content-type': 'text/xml; charset=utf-8', soapaction: `"${c.action}"` },
    body: c.envelope,
    signal
  })
  let bytes: Buffer
  try {
    bytes = Buffer.from(await res.arrayBuffer())
  } catch (err) {
    throw new TransientDeliveryError(`the answer from ${config.url} was cut off`, { code: signal.aborted ? 'EGIF_ERR_DELIVERY_TIMEOUT' : 'EGIF_ERR_DELIVERY_TRANSIENT', cause: err })
  }
  let env
  try {
    env = parseEnvelope(bytes)
  } catch (err) {
    const outcome = httpOutcome(res.status)
    const detail = `${config.url} answered ${res.status} without a SOAP envelope: ${(err as Error).message}`
    if (outcome === 'permanent') throw new PermanentDeliveryError(detail, { cause: err })
    throw new TransientDeliveryError(detail, { code: outcome === 'transient' ? 'EGIF_ERR_DELIVERY_TRANSIENT' : 'EGIF_ERR_ADAPTER_PROTOCOL', retryAfterMs: parseRetryAfter(res.headers.get('retry-after')), cause: err })
  }
  if (env.fault !== undefined) {
    const f = env.fault
    if (f.detailCode !== undefined && ALREADY_HAVE.has(f.detailCode)) return null
    const detail = `SOAP fault ${f.code}${f.detailCode !== undefined ? ` (${f.detailCode})` : ''}: ${f.message}`
    if (/(^|:)Client$/.test(f.code)) throw new PermanentDeliveryError(detail)
    throw new TransientDeliveryError(detail)
  }
  const sentId = /<wsa:MessageID>([^<]*)<\/wsa:MessageID>/.exec(c.envelope)?.[1]
  if (env.addressing.relatesTo !== undefined && sentId !== undefined && env.addressing.relatesTo !== sentId.replace(/&amp;/g, '&')) {
    throw new TransientDeliveryError(`the answer relates to ${env.addressing.relatesTo}, not to ${sentId}`, { code: 'EGIF_ERR_ADAPTER_PROTOCOL' })
  }
  if (env.body.name !== expect) throw new TransientDeliveryError(`expected ${expect}, got ${env.body.name}`, { code: 'EGIF_ERR_ADAPTER_PROTOCOL' })
  if (httpOutcome(res.status) !== 'delivered') throw new TransientDeliveryError(`${config.url} answered ${res.status} with ${expect}`, { code: 'EGIF_ERR_ADAPTER_PROTOCOL' })
  return env.body
}

/** A protocol error from the pure readers becomes a transient delivery error. */
export function asDeliveryError (err: unknown): Error {
  if (err instanceof HubError) return new TransientDeliveryError(err.message, { code: err.code, cause: err })
  return err as Error
}
