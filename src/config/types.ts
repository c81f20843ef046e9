import type { SignatureForm, SignaturePolicy } from '../registry/manifest.js'
import type { SigningConfig } from '../adapters-sdk/signing-config.js'

/** The validated configuration, defaults applied (see `schema.ts` for every option's default). */
export interface HubConfig {
  /** Where the file was read from; relative paths in it resolve against its folder. */
  file: string
  baseDir: string
  demo: boolean
  hub: {
    id: string
    host: string
    port: number
    dataDir: string
    logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    /** Document-check threads; undefined: the number of cores minus one, at least 1 (`defaultCheckThreads`). */
    checkThreads?: number
    tls?: { keyFile: string, certFile: string, clientCaFiles: string[] }
    key?: HubKeyConfig & { previous: HubKeyConfig[] }
  }
  cluster: {
    prefix: string
    lockDurationMs: number
    sweepIntervalMs: number
    /** The delivery queue on Redis: BullMQ, or the hub's own on a Redis stream. */
    queue: 'bullmq' | 'stream'
  }
  trail: {
    log?: string
    checkpointEveryRecords: number
    checkpointEveryMs: number
    tsaUrl?: string
    tsaTimeoutMs: number
  }
  archive: {
    /** 0 keeps bodies forever. */
    retentionDays: number
    sweepEveryMs: number
  }
  limits: {
    maxBodyBytes: number
    /** How long a request may take to arrive whole (ms); 408 `EGIF_ERR_REQUEST_TIMEOUT` after. */
    requestTimeoutMs: number
    xmlMaxDepth: number
    xmlMaxAttributes: number
    xmlMaxElements: number
    jsonMaxDepth: number
  }
  delivery: DeliveryConfig
  documentTypes: {
    builtin: boolean
    folders: string[]
    xsd: XsdTypeConfig[]
  }
  participants: ParticipantConfig[]
  auditors: Array<{ id: string, apiKeys: string[] }>
  operators: Array<{ id: string, apiKeys: string[] }>
  routes: RouteConfig[]
  /** Set from REDIS_URL; selects the cluster queue driver. */
  redisUrl?: string
}

export interface HubKeyConfig {
  pemFile?: string
  certFile?: string
  pkcs12File?: string
  passphraseEnv?: string
  alg?: 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
}

export interface DeliveryConfig {
  maxAttempts: number
  initialBackoffMs: number
  maxBackoffMs: number
  timeoutMs: number
  concurrency: number
  /** Most deliveries at once to one receiver, per hub process (the participant's `delivery.maxConcurrent` overrides it). */
  perRecipient: number
}

export interface XsdTypeConfig {
  id: string
  title?: { th?: string, en: string }
  baseDir: string
  namespace: string
  rootElement: string
  versionLocation?: { xpath?: string, namespaces?: Record<string, string> }
  defaultVersion?: string
  versions: Array<{ version: string, schema: string }>
  signature?: { policy: SignaturePolicy, forms?: SignatureForm[] }
}

export interface ParticipantConfig {
  id: string
  name: { th?: string, en: string }
  apiKeys: string[]
  clientCertificates: string[]
  signingCertificates: string[]
  signingAuthorities: Array<{ caFile: string, subject: Record<string, string> }>
  delivery: { mode: 'push' | 'pull', adapter?: string, config: Record<string, unknown>, maxConcurrent?: number, retry?: Partial<Pick<DeliveryConfig, 'maxAttempts' | 'initialBackoffMs' | 'maxBackoffMs' | 'timeoutMs'>> }
  inbound: Array<{ adapter: string, config: Record<string, unknown> }>
  signing?: SigningConfig
}

export type Selector = string | string[]

export interface RouteConfig {
  from: Selector
  to: Selector
  types: string[]
}
