import type { Logger } from 'pino'
import type { Adapter, HubServices, StandardMessage } from '../adapters-sdk/types.js'
import type { DocumentSigner } from '../adapters-sdk/signing.js'
import { PermanentDeliveryError, TransientDeliveryError } from '../adapters-sdk/errors.js'
import type { DeliveryConfig } from '../config/types.js'
import type { DeliveryJob, DeliveryQueue, Later } from '../queue/queue.js'
import type { MessageStore } from '../store/store.js'
import type { MessageEvent, Receipt, StoredMessage } from '../store/types.js'
import type { Trail } from '../trail/trail.js'
import type { TrailEvent } from '../trail/event.js'
import { isHubError } from '../errors.js'
import { deliveredReceiptDue, receiptFor, withSignature } from '../store/state.js'
import { backoffDelay } from './backoff.js'
import { RecipientSlots, type Release } from './recipient-slots.js'
import type { HubSigner } from './signer.js'
import type { WriteOptions } from '../store/flush-schedule.js'

export interface Recipient {
  adapter: Adapter<any>
  config: Record<string, unknown>
  /** Attempts, backoff and timeout for this receiver: the hub's `delivery` with its own overrides. */
  retry?: Pick<DeliveryConfig, 'maxAttempts' | 'initialBackoffMs' | 'maxBackoffMs' | 'timeoutMs'>
  /** The receiver's own signing key, when the hub holds one for its adapters. */
  signer?: DocumentSigner
  /** Most deliveries to this receiver at once (per hub process); default the hub's `delivery.perRecipient`. */
  maxConcurrent?: number
}

export interface DeliveryWorkerDeps {
  store: MessageStore
  queue: DeliveryQueue
  signer: HubSigner
  log: Logger
  config: DeliveryConfig
  /** The adapter and its validated config for a receiver. */
  recipientOf: (receiver: string) => Recipient
  now?: () => Date
  /** The audit trail: every event of a message is recorded there too. */
  trail: Pick<Trail, 'append'>
}

/**
 * Takes delivery jobs from the queue, hands each message to its receiver's adapter, and records
 * the outcome: delivered, a failed attempt with the next one scheduled, or a dead letter.
 */
export class DeliveryWorker {
  /** The attempts under way, aborted by stop(). */
  private readonly inFlight = new Set<AbortController>()
  /** Deliveries under way and waiting, per receiver. */
  private readonly slots: RecipientSlots
  private stopped = false
  private readonly now: () => Date

  constructor (private readonly deps: DeliveryWorkerDeps) {
    this.now = deps.now ?? (() => new Date())
    this.slots = new RecipientSlots(deps.config.concurrency)
  }

  start (): void {
    this.deps.queue.process(async (job) => await this.handle(job), this.deps.config.concurrency)
  }

  /** Messages the pull recipients find in their mailbox. */
  readonly services: HubServices = {
    putInMailbox: async (msg) => {
      const m = await this.deps.store.get(msg.routing.sender, msg.routing.messageId)
      if (m === undefined || m.state === 'in-mailbox' || m.state === 'acked') return
      await this.addEvent(m, { type: 'in-mailbox', at: this.now().toISOString(), attempt: msg.attempt })
    }
  }

  /**
   * Adds a job for every message not yet delivered whose last event is older than `graceMs`: at
   * start (after a crash or a restart), and in cluster mode now and then, for a message stored by a
   * process that died before it could queue it. Adding a job that is already queued is a no-op, so
   * sweeping twice is harmless. A failed attempt's `nextAttemptAt` is kept.
   */
  async resume (graceMs = 0): Promise<number> {
    const pending = await this.deps.store.undelivered()
    const now = this.now().getTime()
    let added = 0
    for (const m of pending) {
      const last = m.events[m.events.length - 1]
      if (now - Date.parse(last?.at ?? m.receivedAt) < graceMs) continue
      const due = last?.nextAttemptAt !== undefined ? Date.parse(last.nextAttemptAt) - now : 0
      await this.deps.queue.add({ sender: m.sender, messageId: m.messageId, attempt: m.attempts + 1, digest: m.digest }, { delayMs: Math.max(0, due) })
      added++
    }
    return added
  }

  async enqueue (m: StoredMessage): Promise<void> {
    await this.deps.queue.add({ sender: m.sender, messageId: m.messageId, attempt: m.attempts + 1, digest: m.digest })
  }

  async standardMessage (m: StoredMessage, attempt: number): Promise<StandardMessage> {
    return {
      routing: {
        messageId: m.messageId,
        sender: m.sender,
        receiver: m.receiver,
        documentType: m.documentType,
        documentVersion: m.documentVersion,
        ...(m.conversationId !== undefined ? { conversationId: m.conversationId } : {}),
        ...(m.inReplyTo !== undefined ? { inReplyTo: m.inReplyTo } : {})
      },
      contentType: m.contentType,
      body: await this.deps.store.bodyOf(m),
      digest: m.digest,
      seal: m.seal,
      acceptedAt: m.receivedAt,
      attempt
    }
  }

  /** The `delivered` receipt: the accepted receipt's fields with status delivered and its time. */
  async deliveredReceipt (m: StoredMessage, at: string): Promise<Receipt> {
    const a = m.receipt
    const r: Omit<Receipt, 'signature'> = { messageId: a.messageId, status: 'delivered', sender: a.sender, receiver: a.receiver, documentType: a.documentType, documentVersion: a.documentVersion, receivedAt: a.receivedAt, digest: a.digest, trail: a.trail, deliveredAt: at }
    return withSignature(r, await this.deps.signer.signReceipt(r))
  }

  /**
   * The delivered receipt a message owes its sender, or undefined before it is delivered or
   * acknowledged. A push delivery records no receipt, since nobody waits for it then: it is signed
   * here for the delivery's time when first asked for, and kept, so that every later reader gets
   * the same one. Where it cannot be kept (storage unavailable) it is still given: it is as valid,
   * and the next reader gets one kept.
   */
  async owedReceipt (m: StoredMessage): Promise<Receipt | undefined> {
    const due = deliveredReceiptDue(m)
    if (due === undefined) return undefined
    const held = receiptFor(m, due)
    if (held !== undefined) return held
    const signed = await this.deliveredReceipt(m, due)
    try {
      return await this.deps.store.keepDeliveredReceipt(m.sender, m.messageId, signed)
    } catch (err) {
      this.deps.log.warn({ messageId: m.messageId, sender: m.sender, err }, 'a delivered receipt could not be kept; given unkept')
      return signed
    }
  }

  private async handle (job: DeliveryJob): Promise<void | Later> {
    const { store, log } = this.deps
    const m = await store.get(job.sender, job.messageId)
    // Already settled (a duplicate job after a restart, or an operator action): nothing to do.
    if (m === undefined || m.state !== 'queued') return
    // Only the next attempt runs. A job for an attempt already made is stale: a sweep that read the
    // message just before that attempt failed and queued its retry. Running it would deliver the
    // message twice side by side.
    if (job.attempt !== m.attempts + 1) return
    const attempt = job.attempt
    const recipient = this.deps.recipientOf(m.receiver)
    const { adapter, config: adapterConfig } = recipient
    // The receiver's system takes only so many at once; the attempt's timeout starts with its slot.
    const taken = this.slots.take(m.receiver, recipient.maxConcurrent ?? this.deps.config.perRecipient)
    let release: Release
    if (taken === undefined) return
    if (typeof taken === 'function') {
      release = taken
    } else if (taken instanceof Promise) {
      const freed = await taken
      // Stopping while it waited: no attempt was made, and the message stays queued (for the next
      // start, or in cluster mode for another process's sweep).
      if (freed === undefined) return
      release = freed
      let due = false
      try {
        due = await this.stillDue(m, attempt)
      } finally {
        if (!due) release()
      }
      if (!due) return
    } else {
      // Past the few that wait for a slot, the job goes back to the queue: it is no attempt, and
      // it does not hold one of the hub's deliveries at once while the receiver is busy.
      return taken
    }
    // One controller per attempt, aborted by its timeout or by stop(): cheaper than
    // AbortSignal.timeout + AbortSignal.any, which cost a timer and a weak reference set each.
    const timeoutMs = (recipient.retry ?? this.deps.config).timeoutMs
    const ac = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      ac.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'))
    }, timeoutMs)
    timer.unref()
    this.inFlight.add(ac)
    if (this.stopped) ac.abort(stopping())
    const msg = await this.standardMessage(m, attempt)
    let childLog: Logger | undefined
    try {
      await adapter.deliver(msg, {
        config: adapterConfig,
        routing: msg.routing,
        ...(recipient.signer !== undefined ? { signer: recipient.signer } : {}),
        // Made when an adapter logs, not for every delivery (a child logger costs more than a POST).
        get log () { return (childLog ??= log.child({ messageId: m.messageId, receiver: m.receiver, attempt })) },
        signal: ac.signal,
        services: this.services
      })
    } catch (err) {
      await this.failed(m, attempt, err, timedOut)
      return
    } finally {
      clearTimeout(timer)
      this.inFlight.delete(ac)
      release()
    }
    if (adapter.name === 'mailbox') return
    const at = this.now().toISOString()
    await this.addEvent(m, { type: 'delivered', at, attempt }, undefined, LINGER)
    log.debug({ messageId: m.messageId, receiver: m.receiver, attempt }, 'delivered')
  }

  private async failed (m: StoredMessage, attempt: number, err: unknown, timedOut: boolean): Promise<void> {
    const { log, queue } = this.deps
    const config = this.deps.recipientOf(m.receiver).retry ?? this.deps.config
    const at = this.now().toISOString()
    const permanent = err instanceof PermanentDeliveryError
    const code = timedOut ? 'EGIF_ERR_DELIVERY_TIMEOUT' : (err as { code?: string }).code ?? 'EGIF_ERR_DELIVERY_TRANSIENT'
    const detail = timedOut ? `no answer within ${config.timeoutMs} ms` : (err as Error).message
    if (permanent || attempt >= config.maxAttempts) {
      await this.addEvent(m, {
        type: 'dead-lettered',
        at,
        attempt,
        code,
        detail: permanent ? detail : `gave up after ${attempt} attempts; last: ${detail}`
      }, undefined, LINGER)
      log.warn({ messageId: m.messageId, receiver: m.receiver, attempt, code }, 'dead-lettered')
      return
    }
    const retryAfter = err instanceof TransientDeliveryError ? err.retryAfterMs : undefined
    const delay = backoffDelay(attempt + 1, config, retryAfter)
    const nextAttemptAt = new Date(Date.parse(at) + delay).toISOString()
    await this.addEvent(m, { type: 'attempt-failed', at, attempt, code, detail, nextAttemptAt }, undefined, LINGER)
    log.info({ messageId: m.messageId, receiver: m.receiver, attempt, code, delay }, 'delivery attempt failed; retry scheduled')
    await queue.add({ sender: m.sender, messageId: m.messageId, attempt: attempt + 1, digest: m.digest }, { delayMs: delay })
  }

  /**
   * Records an event of a message in the store and, in parallel, in the audit trail. `linger`:
   * nobody waits for it but this worker (a delivery's outcome), so its writes may wait a few
   * milliseconds to go with others (`FlushSchedule`); an event someone waits for is written at
   * once. (Acks and replays go through `ack` and `replay`: store first, then trail.)
   */
  async addEvent (m: StoredMessage, event: MessageEvent, deliveredReceipt?: Receipt, opts: WriteOptions = {}): Promise<StoredMessage> {
    const [updated] = await Promise.all([
      this.deps.store.addEvent(m.sender, m.messageId, event, deliveredReceipt, opts),
      this.deps.trail.append(trailRecord(m, event), opts)
    ])
    return updated
  }

  /**
   * Records the receiver's acknowledgement of a message in its mailbox; resolves with the
   * delivered receipt. Acks of one message at once (a retry, two hub processes) record one `acked`
   * event and one trail record, and every caller gets the one receipt kept: the store adds the
   * event only while the message is in the mailbox, and the trail record follows once it has.
   * @throws HubError EGIF_ERR_NOT_FOUND when the message is neither in the mailbox nor acked
   */
  async ack (m: StoredMessage, by: string): Promise<Receipt> {
    const event: MessageEvent = { type: 'acked', at: this.now().toISOString(), by }
    const receipt = await this.deliveredReceipt(m, event.at)
    try {
      await this.deps.store.addEvent(m.sender, m.messageId, event, receipt, { onlyIn: 'in-mailbox' })
    } catch (err) {
      if (!isHubError(err) || err.extra.state !== 'acked') throw err
      // Acknowledged by another request since `m` was read: its receipt is the one kept.
      const now = await this.deps.store.get(m.sender, m.messageId)
      if (now?.deliveredReceipt === undefined) throw err
      return now.deliveredReceipt
    }
    await this.deps.trail.append(trailRecord(m, event))
    return receipt
  }

  /**
   * Requeues a dead-lettered message (operator action), recorded as a `replayed` event; false
   * when it is no longer dead-lettered (another replay got there first: replays of one message at
   * once record one event and one trail record, like acks).
   */
  async replay (m: StoredMessage, by: string): Promise<boolean> {
    const event: MessageEvent = { type: 'replayed', at: this.now().toISOString(), by }
    let replayed: StoredMessage
    try {
      replayed = await this.deps.store.addEvent(m.sender, m.messageId, event, undefined, { onlyIn: 'dead-lettered' })
    } catch (err) {
      if (isHubError(err) && err.extra.state !== undefined) return false
      throw err
    }
    await this.deps.trail.append(trailRecord(m, event))
    // Attempts count from one again: queue the next attempt of the message as the replay left it.
    await this.enqueue(replayed)
    return true
  }

  /** Whether `attempt` is still the one to make, after a wait in which the message may have moved on. */
  private async stillDue (m: StoredMessage, attempt: number): Promise<boolean> {
    const now = await this.deps.store.progress(m.sender, m.messageId)
    return now !== undefined && now.state === 'queued' && now.attempts + 1 === attempt
  }

  /** Deliveries to `receiver` under way in this process, waiting for one of its slots, and given back to the queue so far. */
  load (receiver: string): { running: number, waiting: number, givenBack: number } {
    return this.slots.load(receiver)
  }

  /**
   * No attempt starts from now on: the deliveries waiting for a slot return without one (their
   * messages stay queued for the next start), while those under way may finish.
   */
  drain (): void {
    this.slots.close()
  }

  stop (): void {
    this.stopped = true
    this.slots.close()
    for (const ac of this.inFlight) ac.abort(stopping())
  }
}

/** The trail record of a message's event. */
function trailRecord (m: StoredMessage, event: MessageEvent): TrailEvent {
  return {
    type: event.type,
    at: event.at,
    messageId: m.messageId,
    sender: m.sender,
    receiver: m.receiver,
    documentType: m.documentType,
    digest: m.digest,
    attempt: event.attempt,
    code: event.code,
    by: event.by,
    detail: event.detail
  }
}

/** The outcome of an attempt: only the worker waits for its records. */
const LINGER = { linger: true } as const

/** Why an attempt was aborted by `stop()`. */
function stopping (): DOMException {
  return new DOMException('the hub is stopping', 'AbortError')
}
