import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino, type Logger } from 'pino'
import { HubError } from './errors.js'
import type { HubConfig, HubKeyConfig } from './config/types.js'
import { DocumentTypeRegistry } from './registry/document-types.js'
import { ParticipantRegistry, RouteTable } from './registry/participants.js'
import { JournalStore } from './store/journal-store.js'
import type { MessageStore } from './store/store.js'
import type { JournalRecord } from './store/types.js'
import { EmbeddedQueue } from './queue/embedded.js'
import { BullMqQueue } from './queue/bullmq.js'
import { StreamQueue } from './queue/redis-streams.js'
import { RedisStore } from './store/redis-store.js'
import { checkRedis } from './cluster/redis-checks.js'
import { SharedJwks } from './cluster/shared-jwks.js'
import { withTimeout, type DeliveryQueue } from './queue/queue.js'
import { AdapterRegistry } from './adapters-sdk/registry.js'
import type { Adapter } from './adapters-sdk/types.js'
import type { DocumentSigner } from './adapters-sdk/signing.js'
import { signerFromConfig } from './adapters-sdk/signing-config.js'
import { DeliveryWorker, type Recipient } from './delivery/worker.js'
import type { HubSigner } from './delivery/signer.js'
import { Intake } from './pipeline/intake.js'
import { registeredVerifiers } from './pipeline/verify-signature.js'
import { defaultCheckThreads, InlineChecks, ThreadChecks, type DocumentChecks } from './pipeline/check-pool.js'
import { parseLimits } from './pipeline/parse.js'
import { exportHubKeyPem, generateHubKey, loadHubKey, type HubKey } from './crypto/hub-key.js'
import { HubKeyRing } from './crypto/jwks.js'
import { sealFor, signReceipt } from './crypto/receipt.js'
import { Trail } from './trail/trail.js'
import { HubMetrics } from './metrics.js'
import { BodyArchive } from './trail/archive.js'
import { consistencyProof, messageProof } from './trail/proofs.js'
import { TrailPeers } from './cluster/trail-peers.js'

/**
 * What logs never show: credentials, keys, document bodies and the personal-data fields of
 * documents (names, national ids, addresses, contacts) wherever a logged object carries them.
 */
export const LOG_REDACT = [
  'req.headers.authorization', 'req.headers["egif-signature"]', 'headers.authorization',
  'apiKey', 'key', '*.apiKey', '*.apiKeys', '*.key', '*.privateKey', '*.passphrase', '*.pem',
  'body', '*.body', '*.document',
  '*.firstName', '*.lastName', '*.citizenId', '*.nationalId', '*.taxId', '*.address', '*.email', '*.phone', '*.birthDate'
]

/** The folder of the built-in document types. */
// From the sources (src/hub.ts) the folder is one level up; from a build (dist/src/hub.js), two.
export const BUILTIN_SCHEMAS = [new URL('../schemas/', import.meta.url), new URL('../../schemas/', import.meta.url)]
  .map((u) => fileURLToPath(u)).find((p) => existsSync(p)) ?? fileURLToPath(new URL('../schemas/', import.meta.url))

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
  /** Participants' own signing keys (`participants[].signing`), for adapters that sign on their behalf. */
  private readonly signers = new Map<string, DocumentSigner>()
  private readonly inbound: Array<{ participant: string, adapter: Adapter<any>, config: Record<string, unknown> }> = []
  private readonly inboundStop = new AbortController()
  private readonly inboundRuns: Array<Promise<void>> = []
  private sweeper: NodeJS.Timeout | undefined
  /** Cluster mode: every process's public keys, published in Redis. */
  private sharedJwks: SharedJwks | undefined
  /** Cluster mode: proofs of the other processes' trails, asked for through Redis. */
  trailPeers: TrailPeers | undefined
  /** `embedded` (one process, journal in the data directory) or `cluster` (Redis: store and queue). */
  readonly mode: 'embedded' | 'cluster'
  /** What this process counted since it started (`GET /v1/admin/metrics`). */
  readonly metrics = new HubMetrics()
  private readonly startedAt = Date.now()

  private constructor (
    readonly config: HubConfig,
    readonly log: Logger,
    readonly types: DocumentTypeRegistry,
    readonly participants: ParticipantRegistry,
    readonly store: MessageStore,
    readonly queue: DeliveryQueue,
    readonly keys: HubKeyRing,
    adapters: AdapterRegistry,
    /** This process's audit trail (`<dataDir>/trail/<log>`). */
    readonly trail: Trail,
    readonly archive: BodyArchive,
    /** Where intake parses, validates and verifies documents: worker threads or the event loop. */
    readonly checks: DocumentChecks
  ) {
    this.mode = config.redisUrl !== undefined ? 'cluster' : 'embedded'
    trail.onRecord = (e) => { this.metrics.recorded(e) }
    const signer: HubSigner = {
      // Receipts in the check threads when there are any (handed over in batches, see
      // ThreadChecks.signReceipt), else on the event loop. Seals are made by the checks themselves.
      signReceipt: checks.signReceipt?.bind(checks) ?? (async (r) => signReceipt(keys, r)),
      seal: async (f) => sealFor(keys, f)
    }
    for (const p of config.participants) {
      // Parsed once: the key is used for every document the participant's adapters sign.
      const signer = signerFromConfig(p.signing)
      if (signer !== undefined) this.signers.set(p.id, signer)
    }
    for (const p of participants.list()) {
      const name = p.delivery.mode === 'pull' ? 'mailbox' : p.delivery.adapter!
      const resolved = adapters.resolve(name, p.delivery.mode === 'pull' ? {} : p.delivery.config, `${config.file}: participant ${p.id}`)
      const delivery = config.participants.find((c) => c.id === p.id)?.delivery
      const signer = this.signers.get(p.id)
      this.recipients.set(p.id, {
        ...resolved,
        retry: { ...config.delivery, ...delivery?.retry },
        ...(delivery?.maxConcurrent !== undefined ? { maxConcurrent: delivery.maxConcurrent } : {}),
        ...(signer !== undefined ? { signer } : {})
      })
    }
    for (const p of config.participants) {
      p.inbound.forEach((ib, i) => {
        const where = `${config.file}: participant ${p.id}, inbound ${i}`
        const resolved = adapters.resolve(ib.adapter, ib.config, where)
        if (resolved.adapter.runInbound === undefined) throw new HubError('EGIF_ERR_ADAPTER_CONFIG', `${where}: adapter "${ib.adapter}" has no inbound side`)
        this.inbound.push({ participant: p.id, ...resolved })
      })
    }
    this.worker = new DeliveryWorker({
      store,
      queue,
      signer,
      log,
      config: config.delivery,
      trail,
      recipientOf: (id) => {
        const r = this.recipients.get(id)
        if (r === undefined) throw new HubError('EGIF_ERR_RECEIVER_UNKNOWN', `no adapter for ${id}`)
        return r
      }
    })
    this.intake = new Intake({
      participants,
      routes: new RouteTable(config.routes),
      store,
      signer,
      checks,
      enqueue: async (m) => {
        // The message is stored durably, so its 202 is due whatever happens to the job. A job that
        // could not be added (Redis went away between the two) is added by the sweep in cluster
        // mode, or at the next start in embedded mode (the queue is closed only while stopping).
        try {
          await this.worker.enqueue(m)
        } catch (err) {
          this.log.warn({ err, messageId: m.messageId, sender: m.sender }, 'message stored but its delivery not queued yet; the sweep or the next start queues it')
        }
      },
      trail,
      // The message is stored already: a body the archive could not keep is logged, never a failed intake.
      archive: async (at, digest, body) => {
        await archive.put(at, digest, body).catch((err: unknown) => { this.log.warn({ err, digest }, 'could not archive a body') })
      }
    })
  }

  /** Builds a hub from a validated configuration, opens its store and resumes pending deliveries. */
  static async create (config: HubConfig, opts: HubOptions = {}): Promise<Hub> {
    const log = opts.log ?? pino({ level: config.hub.logLevel, redact: LOG_REDACT })
    const types = DocumentTypeRegistry.fromConfig(config, BUILTIN_SCHEMAS)
    const participants = new ParticipantRegistry(config)
    const adapters = new AdapterRegistry()
    for (const a of opts.adapters ?? []) adapters.register(a)
    mkdirSync(config.hub.dataDir, { recursive: true })
    const keys = hubKeyRing(config)
    let store: MessageStore
    let queue: DeliveryQueue
    if (config.redisUrl !== undefined) {
      const redisStore = await RedisStore.open(config.redisUrl, { prefix: config.cluster.prefix })
      try {
        const durability = await checkRedis(redisStore.client, { streamQueue: config.cluster.queue === 'stream' })
        log.info({ ...durability }, `Redis persistence: ${durability.risk}`)
        if (!durability.aof) log.warn('Redis runs without AOF: see docs/operations.md before accepting messages you cannot afford to lose')
      } catch (err) {
        await redisStore.close()
        throw err
      }
      store = redisStore
      const queueOpts = { prefix: config.cluster.prefix, lockDurationMs: config.cluster.lockDurationMs }
      queue = config.cluster.queue === 'stream' ? new StreamQueue(config.redisUrl, queueOpts) : new BullMqQueue(config.redisUrl, queueOpts)
    } else {
      store = await JournalStore.open(config.hub.dataDir, { unsafeNoSync: opts.unsafeNoSync })
      queue = new EmbeddedQueue()
    }
    // Each process keeps and signs its own trail; in cluster mode the default name tells them apart.
    const trailLog = config.trail.log ?? (config.redisUrl !== undefined ? `${config.hub.id}.${process.pid}` : config.hub.id)
    const trail = await Trail.open(join(config.hub.dataDir, 'trail'), { ...config.trail, log: trailLog, keys, unsafeNoSync: opts.unsafeNoSync, logger: log })
    await trail.append({ type: 'started', detail: `${config.redisUrl !== undefined ? 'cluster' : 'embedded'} process ${process.pid}` })
    await trail.recordConfiguration({ ...config, file: undefined, baseDir: undefined }, keys.all.map((k) => k.kid))
    const archive = new BodyArchive(join(config.hub.dataDir, 'archive'), { ...config.archive, trail, logger: log, expireStored: async (before) => await store.expireBodies(before) })
    archive.start()
    let hub: Hub
    let checks: DocumentChecks | undefined
    try {
      const threads = config.hub.checkThreads ?? defaultCheckThreads()
      checks = threads > 0
        ? await ThreadChecks.start({ config, builtinSchemas: BUILTIN_SCHEMAS, sealKey: keys.current }, threads, { log })
        : new InlineChecks({ types, participants, limits: parseLimits(config), verifiers: registeredVerifiers, sealKey: keys.current })
      hub = new Hub(config, log, types, participants, store, queue, keys, adapters, trail, archive, checks)
    } catch (err) {
      // A configuration the hub refuses must not leave the trail's files open behind it.
      archive.stop()
      await checks?.close()
      await trail.close()
      throw err
    }
    // Embedded: every undelivered message needs its job again. Cluster: the jobs live in Redis;
    // only a message whose process died between storing and queueing it lacks one.
    const grace = hub.mode === 'cluster' ? config.cluster.sweepIntervalMs : 0
    const resumed = await hub.worker.resume(grace)
    hub.worker.start()
    if (hub.mode === 'cluster') {
      hub.startSweeper()
      hub.sharedJwks = new SharedJwks((store as RedisStore).client, `${config.cluster.prefix}:jwks`, () => keys.jwks())
      await hub.sharedJwks.start()
      hub.trailPeers = new TrailPeers((store as RedisStore).client, config.cluster.prefix, trail.log, async (q) =>
        q.kind === 'proof' ? await messageProof(trail, q.messageId, q.who) : consistencyProof(trail, q.from, q.to))
      hub.trailPeers.start()
    }
    hub.startInbound()
    log.info({ mode: hub.mode, messages: (await store.stats()).messages, resumed, types: types.list().length, participants: participants.list().length }, 'hub ready')
    return hub
  }

  private startSweeper (): void {
    const every = this.config.cluster.sweepIntervalMs
    this.sweeper = setInterval(() => {
      if (!this.store.ready()) return
      this.worker.resume(every).then((n) => {
        if (n > 0) this.log.warn({ requeued: n }, 'queued deliveries whose jobs were missing')
      }, (err: unknown) => { this.log.warn({ err }, 'delivery sweep failed; it runs again later') })
    }, every)
    this.sweeper.unref()
  }

  /** Starts every configured inbound adapter; each submits through intake as its participant. */
  private startInbound (): void {
    for (const ib of this.inbound) {
      const log = this.log.child({ adapter: ib.adapter.name, participant: ib.participant, direction: 'inbound' })
      const run = ib.adapter.runInbound!({
        config: ib.config,
        log,
        signal: this.inboundStop.signal,
        participant: ib.participant,
        ...(this.signers.has(ib.participant) ? { signer: this.signers.get(ib.participant) } : {}),
        submit: async (doc) => {
          this.assertAccepting()
          const r = doc.routing
          const headers: Record<string, string> = {
            'content-type': doc.contentType,
            'egif-message-id': r.messageId,
            'egif-sender': ib.participant,
            'egif-receiver': r.receiver
          }
          if (r.documentType !== undefined) headers['egif-document-type'] = r.documentType
          if (r.documentVersion !== undefined) headers['egif-document-version'] = r.documentVersion
          if (r.conversationId !== undefined) headers['egif-conversation-id'] = r.conversationId
          if (r.inReplyTo !== undefined) headers['egif-in-reply-to'] = r.inReplyTo
          if (doc.signature !== undefined) headers['egif-signature'] = doc.signature
          const result = await this.intake.submit({ principal: { id: ib.participant, role: 'participant', via: 'inbound-adapter' }, headers, body: doc.body, receivedAt: new Date() })
          return { status: result.status, receipt: result.receipt }
        }
      }).catch((err: unknown) => { log.error({ err }, 'inbound adapter stopped with an error') })
      this.inboundRuns.push(run)
    }
  }

  /** Throws 503 once shutdown has begun or while storage is away, so a client sends elsewhere or later. */
  assertAccepting (): void {
    if (!this.accepting) throw new HubError('EGIF_ERR_SHUTTING_DOWN')
    if (!this.store.ready()) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', this.mode === 'cluster' ? 'Redis is not reachable' : 'the data directory cannot be written')
  }

  readiness (): { ready: boolean, mode: 'embedded' | 'cluster', reason?: string } {
    if (!this.accepting) return { ready: false, mode: this.mode, reason: 'shutting down' }
    if (!this.store.ready()) return { ready: false, mode: this.mode, reason: this.mode === 'cluster' ? 'Redis is not reachable' : 'the data directory cannot be written' }
    return { ready: true, mode: this.mode }
  }

  /** The metrics in the Prometheus text format: the counters, and gauges read now. */
  async metricsText (): Promise<string> {
    const count = this.queue.count
    const pending = count === undefined ? this.queue.size() : await withTimeout(count.call(this.queue), 1000, 'the queue\'s count').catch(() => Number.NaN)
    const ready = this.readiness().ready
    return this.metrics.render([
      { name: 'egif_info', help: 'The hub and this process\'s mode (always 1)', value: 1, labels: { hub: this.config.hub.id, mode: this.mode, log: this.trail.log } },
      { name: 'egif_ready', help: 'Whether this process accepts messages now (1) or not (0: shutting down, storage away)', value: ready ? 1 : 0 },
      { name: 'egif_queue_pending', help: 'Delivery jobs waiting or running (the whole cluster\'s in cluster mode; NaN while the queue cannot be read)', value: pending },
      { name: 'egif_trail_size', help: 'Records in this process\'s audit trail', value: this.trail.size },
      { name: 'egif_process_start_time_seconds', help: 'When this process started, seconds since the epoch', value: Math.floor(this.startedAt / 1000) },
      { name: 'egif_process_resident_memory_bytes', help: 'Resident memory of this process', value: process.memoryUsage.rss() }
    ])
  }

  jwks (): unknown {
    return this.sharedJwks?.current() ?? this.keys.jwks()
  }

  recordRejection (fields: Omit<Extract<JournalRecord, { t: 'rejected' }>, 't' | 'seq'>): void {
    this.store.recordRejection(fields).catch((err: unknown) => { this.log.warn({ err }, 'could not record a rejected request') })
    const { caller, claimedSender, messageId, code, status, digest, size, at } = fields
    this.trail.append({ type: 'rejected', at, caller, claimedSender, messageId, code, status, digest, size }).catch((err: unknown) => { this.log.warn({ err }, 'could not record a rejected request in the trail') })
  }

  /** Stops intake, lets running deliveries finish (bounded by the delivery timeout), closes the store. */
  async close (): Promise<void> {
    this.accepting = false
    clearInterval(this.sweeper)
    this.sharedJwks?.stop()
    this.trailPeers?.stop()
    this.inboundStop.abort()
    await Promise.all(this.inboundRuns)
    await this.checks.close()
    // The deliveries under way may finish; those still waiting for a recipient's slot would make
    // the drain last one attempt after another, so they give up theirs (their messages stay queued).
    this.worker.drain()
    await this.queue.close()
    this.worker.stop()
    const adapters = new Set([...this.recipients.values()].map((r) => r.adapter).concat(this.inbound.map((i) => i.adapter)))
    for (const a of adapters) await a.close?.()
    await this.store.close()
    this.archive.stop()
    await this.archive.close()
    await this.trail.append({ type: 'stopped' }).catch(() => {})
    await this.trail.close()
    this.types.close()
  }
}
