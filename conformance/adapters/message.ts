import { createHash } from 'node:crypto'
import type { RoutingHeader, StandardMessage } from '../../src/adapters-sdk/index.js'

/** A placeholder seal: adapters pass the seal on, they never verify it. */
const SEAL = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImVnaWYtc2VhbCtqd3QifQ.eyJjb25mb3JtYW5jZSI6dHJ1ZX0.c2lnbmF0dXJl'

/** A standard message as the hub hands it to `deliver`, for fixtures and tests. */
export function standardMessage (opts: { body: string | Buffer, contentType?: string, routing?: Partial<RoutingHeader>, attempt?: number, acceptedAt?: string }): StandardMessage {
  const body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body)
  return {
    routing: {
      messageId: 'conformance-0001',
      sender: 'TH-SENDER',
      receiver: 'TH-RECEIVER',
      documentType: 'test-order',
      documentVersion: '1.0',
      ...opts.routing
    },
    contentType: opts.contentType ?? 'application/json',
    body,
    digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
    seal: SEAL,
    acceptedAt: opts.acceptedAt ?? '2026-11-24T03:00:00.000Z',
    attempt: opts.attempt ?? 1
  }
}

/** The default message of the outbound checks. */
export function sampleMessage (): StandardMessage {
  return standardMessage({ body: JSON.stringify({ schemaVersion: '1.0', orderId: 'RD-2570-0045', amount: 1250.5 }) })
}
