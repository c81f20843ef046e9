import type { Logger } from 'pino'

/** The routing header that travels with every document (DESIGN §1). */
export interface RoutingHeader {
  messageId: string
  sender: string
  receiver: string
  documentType: string
  documentVersion: string
  conversationId?: string
  inReplyTo?: string
}

/** A message as the hub hands it to an adapter: the exact bytes plus routing and the hub's seal. */
export interface StandardMessage {
  routing: RoutingHeader
  contentType: string
  /** The document exactly as the sender sent it; adapters must not rewrite it on the wire. */
  body: Buffer
  /** `sha256:<hex>` of `body`. */
  digest: string
  /** The hub's JWS over the routing fields, digest and acceptance (the `EGIF-Seal` header). */
  seal: string
  acceptedAt: string
  /** 1 for the first attempt. Retries carry the same id and bytes. */
  attempt: number
}

/** Everything an adapter may use while delivering: no globals, all passed in. */
export interface DeliveryContext<Config> {
  config: Config
  log: Logger
  /** Aborted when the attempt times out or the hub shuts down; pass it to every I/O call. */
  signal: AbortSignal
  /** Services of the hub an adapter may call (the mailbox, for pull recipients). */
  services: HubServices
}

export interface HubServices {
  /** Puts a message in the receiver's mailbox (pull delivery). Idempotent by message id. */
  putInMailbox: (msg: StandardMessage) => Promise<void>
}

/**
 * An adapter connects one kind of legacy system to the hub. It declares what it needs (`configSchema`,
 * validated when a participant's configuration is loaded) apart from what it does (`deliver`), and keeps
 * its pure mappings (`fromStandard`, `toStandard`) apart from its I/O so they can be tested with
 * fixtures and no network. One adapter per file, as its default export.
 */
export interface Adapter<Config = Record<string, unknown>, Legacy = unknown> {
  /** The name participants use in `delivery.adapter`. */
  name: string
  description: string
  /** JSON Schema of the adapter's configuration (defaults applied by ajv). */
  configSchema: Record<string, unknown>
  /** Pure: the standard message as the legacy system wants it (outbound). */
  fromStandard?: (msg: StandardMessage, config: Config) => Legacy
  /** Pure: a legacy system's output as a standard document (inbound). */
  toStandard?: (input: Legacy, config: Config) => { routing: Partial<RoutingHeader>, contentType: string, body: Buffer }
  /**
   * Delivers one message. Resolve when the recipient has it; throw `TransientDeliveryError` to retry
   * later or `PermanentDeliveryError` to dead-letter.
   */
  deliver: (msg: StandardMessage, ctx: DeliveryContext<Config>) => Promise<void>
  /** Releases what the adapter holds (connections, timers) at shutdown. */
  close?: () => Promise<void>
}

/** Helper that keeps an adapter's config type when it is declared. */
export function defineAdapter<Config, Legacy = unknown> (adapter: Adapter<Config, Legacy>): Adapter<Config, Legacy> {
  return adapter
}
