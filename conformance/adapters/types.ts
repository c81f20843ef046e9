import type { Adapter, HubServices, StandardMessage } from '../../src/adapters-sdk/index.js'

/** How a legacy-system stand-in answers the deliveries that follow. */
export type PeerBehaviour = 'accept' | 'transient' | 'permanent' | 'hang'

/**
 * A stand-in for the legacy system an adapter talks to, made fresh for each check. It runs in the
 * test process (a loopback server, a temporary folder, a table in the test database): the suite
 * never reaches anything outside the machine.
 */
export interface ConformancePeer<Config = any> {
  /** The adapter configuration that points at this stand-in (defaults are applied by the suite). */
  config: Partial<Config>
  /** The configuration of the inbound side when it differs (another table, another folder). Default `config`. */
  inboundConfig?: Partial<Config>
  /** The behaviours this stand-in can play; checks for the others are not run. */
  behaviours: PeerBehaviour[]
  behave: (b: PeerBehaviour) => void | Promise<void>
  /** Outbound: how many distinct documents the legacy system holds. */
  held: () => Promise<number>
  /** Inbound: the legacy system produces one new item for the hub. */
  produce?: () => Promise<void>
  /** Inbound: items the adapter has not yet handled (taken, or set aside as refused). */
  pending?: () => Promise<number>
  /** Hub services the adapter may call (the mailbox adapter needs `putInMailbox`). */
  services?: HubServices
  close: () => Promise<void>
}

/** What an adapter folder's `conformance.ts` exports by default. */
export interface AdapterSubject<Config = any> {
  adapter: Adapter<Config, any>
  /** A valid configuration (before defaults), used for the schema check and the fixture pairs. */
  config: Partial<Config>
  /** Folder of fixture pairs (`<case>/case.json`); default `fixtures/` beside `conformance.ts`. */
  fixtures?: string
  /** Starts a stand-in of the legacy system; without it only the pure checks run. */
  peer?: () => Promise<ConformancePeer<Config>>
  /** The message the outbound checks deliver; default a small JSON document. */
  message?: () => StandardMessage
}

export function defineConformance<Config> (subject: AdapterSubject<Config>): AdapterSubject<Config> {
  return subject
}

/** One conformance check; `run` throws (an AssertionError) when the adapter does not conform. */
export interface Check {
  name: string
  run: () => Promise<void>
}

export interface CheckResult {
  name: string
  ok: boolean
  detail?: string
}
