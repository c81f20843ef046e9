/**
 * Errors an adapter throws to tell the hub what to do with a failed delivery. Anything else an
 * adapter throws is treated as transient (retried), because an unexpected error says nothing about
 * whether the recipient will take the message later.
 */
export class TransientDeliveryError extends Error {
  readonly code: string
  /** When the recipient said when to come back (HTTP `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number

  constructor (message: string, opts: { code?: string, retryAfterMs?: number, cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'TransientDeliveryError'
    this.code = opts.code ?? 'EGIF_ERR_DELIVERY_TRANSIENT'
    this.retryAfterMs = opts.retryAfterMs
  }
}

/** The recipient refused the message for good: it is dead-lettered at once, never retried. */
export class PermanentDeliveryError extends Error {
  readonly code: string

  constructor (message: string, opts: { code?: string, cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = 'PermanentDeliveryError'
    this.code = opts.code ?? 'EGIF_ERR_DELIVERY_PERMANENT'
  }
}
