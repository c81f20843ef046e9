import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino, type Logger } from 'pino'
import { HubError } from './errors.js'
import type { HubConfig, HubKeyConfig } from './config/types.js'
import { DocumentTypeRegistry } from './registry/document-types.js'
import { ParticipantRegistry, RouteTable } from './registry/participants.js'
import { MessageStore } from './store/message-store.js'
import type { JournalRecord } from './store/types.js'
import { EmbeddedQueue } from './queue/embedded.js'
import type { DeliveryQueue } from './queue/queue.js'
import { AdapterRegistry } from './adapters-sdk/registry.js'
import type { Adapter } from './adapters-sdk/types.js'
import { DeliveryWorker, type Recipient } from './delivery/worker.js'
import type { HubSigner } from './delivery/signer.js'
import { Intake } from './pipeline/intake.js'
import type { SignatureVerifiers } from './pipeline/verify-signature.js'
import { exportHubKeyPem, generateHubKey, loadHubKey, type HubKey } from './crypto/hub-key.js'
import { HubKeyRing } from './crypto/jwks.js'
import { sealFor, signReceipt } from './crypto/receipt.js'
import { verifyDetached } from './crypto/jws.js'
import { verifyXmlSignature } from './crypto/xmldsig/index.js'

/** The folder of the built-in document types. */
export const BUILTIN_SCHEMAS = fileURLToPath(new URL('../schemas/', import.meta.url))

export interface HubOptions {
  log?: Logger
  /** Extra adapters besides the built-in ones. */
  adapters?: Array<Adapter<any>>
  /** Skip fsync (only for tests that do not test durability). */
  unsafeNoSync?: boolean
}

function keyFromConfig (k: HubKeyConfig): HubKey {
  const passphrase = k.passphraseEnv !== undefined ? process.env[k.passphraseEnv] : undefined
  return loadHubKey({ pemFile: k.pemFile, certFile: k.certFile, pkcs12File: k.pkcs12File, passphrase, alg: k.alg })
}

/** The configured hub key, or one generated once and kept in the data directory. */
function hubKeyRing (cfg: HubConfig): HubKeyRing {
  if (cfg.hub.key !== undefined && (cfg.hub.key.pemFile !== undefined || cfg.hub.key.pkcs12File !== undefined)) {
    return new HubKeyRing(keyFromConfig(cfg.hub.key), cfg.hub.key.previous.map(keyFromConfig))
  }
  const dir = join(cfg.hub.dataDir, 'keys')
  const file = join(dir, 'hub-key.pem')
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeFileSync(file, exportHubKeyPem(generateHubKey(cfg.hub.key?.alg ?? 'ES256')), { mode: 0o600 })
  }
  return new HubKeyRing(loadHubKey({ pem: readFileSync(file, 'utf8'), alg: cfg.hub.key?.alg }), [])
}

/**
 * One hub: configuration, registries, store, queue, intake and delivery, wired together. No
 * module-level state: tests build as many hubs as they like.
 */
export class Hub {
  readonly intake: Intake
  readonly worker: DeliveryWorker
  private accepting = true
  private readonly recipients = new Map<string, Recipient>()

  private constructor (
    readonly config: HubConfig,
    readonly log: Logger,
    readonly types: DocumentTypeRegistry,
    readonly participants: ParticipantRegistry,
    readonly store: MessageStore,
    readonly queue: DeliveryQueue,
    readonly keys: HubKeyRing,
    private readonly adapters: AdapterRegistry
  ) {
    const signer: HubSigner = {
      signReceipt: (r) => signReceipt(keys, r),
      seal: (f) => sealFor(keys, f)
    }
    const verifiers: SignatureVerifiers = {
      xml: (doc, trust, at, forms) => {
        const check = verifyXmlSignature(doc, { trust, at, forms: forms.filter((f): f is 'xmldsig' | 'xades-bes' => f !== 'jws-detached') })
        return check === null ? null : { form: check.form, certificateFingerprint: check.certificate.fingerprint256 }
      },
      jws: (jws, body, trust, at) => ({ form: 'jws-detached', certificateFingerprint: verifyDetached(jws, body, { trust, at }).certificate.fingerprint256 })
    }
    for (const p of participants.list()) {
      const name = p.delivery.mode === 'pull' ? 'mailbox' : p.delivery.adapter!
      this.recipients.set(p.id, adapters.resolve(name, p.delivery.mode === 'pull' ? {} : p.delivery.config, `${config.file}: participant ${p.id}`))
    }
    this.worker = new DeliveryWorker({
      store,
      queue,
      signer,
      log,
      config: config.delivery,
      recipientOf: (id) => {
        const r = this.recipients.get(id)
        if (r === undefined) throw new HubError('EGIF_ERR_RECEIVER_UNKNOWN', `no adapter for ${id}`)
        return r
      }
    })
    this.intake = new Intake({
      types,
      participants,
      routes: new RouteTable(config.routes),
      store,
      signer,
      verifiers,
      limits: {
        maxBodyBytes: config.limits.maxBodyBytes,
        jsonMaxDepth: config.limits.jsonMaxDepth,
        xml: { maxDepth: config.limits.xmlMaxDepth, maxAttributes: config.limits.xmlMaxAttributes, maxElements: config.limits.xmlMaxElements }
      },
      enqueue: async (m) => { await this.worker.enqueue(m) }
    })
  }

  /** Builds a hub from a validated configuration, opens its store and resumes pending deliveries. */
  static async create (config: HubConfig, opts: HubOptions = {}): Promise<Hub> {
    const log = opts.log ?? pino({ level: config.hub.logLevel, redact: ['req.headers.authorization', '*.apiKey', '*.body'] })
    const types = DocumentTypeRegistry.fromConfig(config, BUILTIN_SCHEMAS)
    const participants = new ParticipantRegistry(config)
    const adapters = new AdapterRegistry()
    for (const a of opts.adapters ?? []) adapters.register(a)
    mkdirSync(config.hub.dataDir, { recursive: true })
    const keys = hubKeyRing(config)
    const store = await MessageStore.open(config.hub.dataDir, { logName: config.hub.id, unsafeNoSync: opts.unsafeNoSync })
    const queue = new EmbeddedQueue()
    const hub = new Hub(config, log, types, participants, store, queue, keys, adapters)
    const resumed = await hub.worker.resume()
    hub.worker.start()
    log.info({ messages: store.stats().messages, resumed, types: types.list().length, participants: participants.list().length }, 'hub ready')
    return hub
  }

  /** Throws 503 once shutdown has begun, so a client sends elsewhere. */
  assertAccepting (): void {
    if (!this.accepting) throw new HubError('EGIF_ERR_SHUTTING_DOWN')
  }

  readiness (): { ready: boolean, reason?: string } {
    if (!this.accepting) return { ready: false, reason: 'shutting down' }
    return { ready: true }
  }

  jwks (): unknown {
    return this.keys.jwks()
  }

  recordRejection (fields: Omit<Extract<JournalRecord, { t: 'rejected' }>, 't' | 'seq'>): void {
    this.store.recordRejection(fields).catch((err: unknown) => { this.log.warn({ err }, 'could not record a rejected request') })
  }

  /** Stops intake, lets running deliveries finish (bounded by the delivery timeout), closes the store. */
  async close (): Promise<void> {
    this.accepting = false
    await this.queue.close()
    this.worker.stop()
    await this.store.close()
    this.types.close()
  }
}
