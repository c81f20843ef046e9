import type { Logger } from 'pino'
import type { Receipt } from '../store/types.js'
import type { DocumentSigner } from './signing.js'

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
  /** The message's routing header (the same as `msg.routing`). */
  routing: RoutingHeader
  /**
   * Signs on behalf of the receiving participant (its `signing` key in the hub configuration), for
   * protocols whose acknowledgements or envelopes the agency must sign; undefined when none is configured.
   */
  signer?: DocumentSigner
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

/** A standard document an inbound adapter hands to the hub, as the participant it speaks for. */
export interface InboundDocument {
  routing: {
    messageId: string
    receiver: string
    documentType?: string
    documentVersion?: string
    conversationId?: string
    inReplyTo?: string
  }
  contentType: string
  body: Buffer
  /** Detached JWS for `EGIF-Signature` (JSON), e.g. from `DocumentSigner`. */
  signature?: string
}

/** What an inbound adapter gets while it runs. */
export interface InboundContext<Config> {
  config: Config
  log: Logger
  /** Aborted when the hub shuts down: stop polling or watching and return. */
  signal: AbortSignal
  /** The participant whose legacy system this adapter reads. */
  participant: string
  /**
   * Signs on behalf of that participant (its `signing` key in the hub configuration), for a legacy
   * system that cannot sign: `ctx.signer.sign(body, contentType)` before `ctx.submit`. Undefined
   * when none is configured.
   */
  signer?: DocumentSigner
  /**
   * Sends a document through the hub's full intake (validation, signature policy, routes) as the
   * participant. Resolves with the receipt (202 new, 200 exact duplicate); throws the intake's
   * HubError (with `code` and `status`) when the hub refuses it.
   */
  submit: (doc: InboundDocument) => Promise<{ status: 200 | 202, receipt: Receipt }>
}

/**
 * An adapter connects one kind of legacy system to the hub. It declares what it needs (`configSchema`,
 * validated when a participant's configuration is loaded) apart from what it does (`deliver`), and keeps
 * its pure mappings (`fromStandard`, `toStandard`) apart from its I/O so they can be tested with
 * fixtures and no network. One adapter per file, as its default export.
 */
// `Legacy` defaults to `any` so that an adapter with a typed legacy form (`Adapter<C, RestRequest>`)
// still fits where any adapter goes (`Adapter<any>`): `toStandard` takes it as a parameter.
export interface Adapter<Config = Record<string, unknown>, Legacy = any> {
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
  /**
   * Inbound: runs while the hub runs (configured under a participant's `inbound`), reading the
   * legacy system's output and handing each document to `ctx.submit`. Return when `ctx.signal` aborts.
   */
  runInbound?: (ctx: InboundContext<Config>) => Promise<void>
  /** Releases what the adapter holds (connections, timers) at shutdown. */
  close?: () => Promise<void>
}

/** Helper that keeps an adapter's config type when it is declared. */
export function defineAdapter<Config, Legacy = unknown> (adapter: Adapter<Config, Legacy>): Adapter<Config, Legacy> {
  return adapter
}
