import { createHash } from 'node:crypto'
import { HubError } from '../errors.js'
import type { ParticipantRegistry, RouteTable } from '../registry/participants.js'
import type { MessageStore } from '../store/store.js'
import type { MessageMeta, Receipt, StoredMessage } from '../store/types.js'
import { withSignature } from '../store/state.js'
import type { HubSigner } from '../delivery/signer.js'
import type { CheckResult, IntakeRequest, Routing } from './context.js'
import { identityCoding, mediaFormat, readRouting } from './headers.js'
import type { DocumentChecks } from './check-pool.js'
import { authorizeRoute } from './authorize.js'
import type { Trail } from '../trail/trail.js'

export interface IntakeDeps {
  participants: ParticipantRegistry
  routes: RouteTable
  store: MessageStore
  signer: HubSigner
  /** Parse, identify, validate and verify the sender's signature (on the event loop or in threads). */
  checks: DocumentChecks
  /** Hands an accepted message to delivery. */
  enqueue: (m: StoredMessage) => Promise<void>
  /** The audit trail: the receipt names the `accepted` record. */
  trail: Pick<Trail, 'begin' | 'append'>
  /**
   * Keeps the body in the archive (retention), once the message is stored. Not awaited: the
   * message store holds the durable copy, so the 202 does not wait for the archive, which reports
   * its own failures.
   */
  archive?: (receivedAt: string, digest: string, body: Uint8Array) => Promise<void>
}

export interface IntakeResult {
  status: 202 | 200
  receipt: Receipt
  message: StoredMessage
}

export function sha256Digest (body: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(body).digest('hex')
}

/**
 * The intake pipeline (DESIGN §2). The order of the stages lives here and nowhere else:
 *
 *   routing header → idempotency → checks (parse → identify type+version → validate
 *     → verify sender signature) → authorize route → record durably → receipt → enqueue
 *
 * An exact duplicate is answered before any parsing: its original passed every stage already.
 * The checks are the CPU-heavy part and may run in other threads (`check-pool.ts`).
 */
export class Intake {
  constructor (private readonly deps: IntakeDeps) {}

  async submit (req: IntakeRequest): Promise<IntakeResult> {
    const { deps } = this
    const routing = readRouting(req)
    if (deps.participants.get(routing.receiver) === undefined) {
      throw new HubError('EGIF_ERR_RECEIVER_UNKNOWN', `EGIF-Receiver ${routing.receiver} is not a registered participant`)
    }
    const contentType = header(req, 'content-type')
    const format = mediaFormat(contentType)
    identityCoding(header(req, 'content-encoding'))
    const digest = sha256Digest(req.body)

    const earlier = await deps.store.get(routing.sender, routing.messageId)
    if (earlier !== undefined) {
      if (earlier.digest !== digest) {
        throw new HubError('EGIF_ERR_IDEMPOTENCY_CONFLICT', `message id ${routing.messageId} was accepted at ${earlier.receivedAt} with other bytes`, { originalDigest: earlier.digest })
      }
      return { status: 200, receipt: earlier.receipt, message: earlier }
    }

    const checked = await deps.checks.check({
      body: req.body,
      format,
      sender: routing.sender,
      declaredType: routing.declaredType,
      declaredVersion: routing.declaredVersion,
      detachedSignature: routing.detachedSignature,
      receivedAt: req.receivedAt,
      seal: { messageId: routing.messageId, receiver: routing.receiver, digest }
    })
    authorizeRoute(routing, checked.type, deps.routes)
    return await this.record(req, routing, contentType!, digest, checked)
  }

  private async record (req: IntakeRequest, r: Routing, contentType: string, digest: string, checked: CheckResult): Promise<IntakeResult> {
    const { deps } = this
    const meta: MessageMeta = {
      messageId: r.messageId,
      sender: r.sender,
      receiver: r.receiver,
      documentType: checked.type,
      documentVersion: checked.version,
      contentType,
      digest,
      size: req.body.length,
      receivedAt: req.receivedAt.toISOString(),
      senderSignature: checked.senderSignature,
      ...(checked.signedBy !== undefined ? { signedBy: checked.signedBy } : {}),
      ...(r.conversationId !== undefined ? { conversationId: r.conversationId } : {}),
      ...(r.inReplyTo !== undefined ? { inReplyTo: r.inReplyTo } : {})
    }
    let recorded: Promise<void> | undefined
    let result: Awaited<ReturnType<MessageStore['accept']>>
    try {
      result = await deps.store.accept(meta, req.body, async () => {
        // The trail record and the message are written in parallel; 202 waits for both.
        const { position: trail, done } = deps.trail.begin({
          type: 'accepted',
          at: meta.receivedAt,
          messageId: meta.messageId,
          sender: meta.sender,
          receiver: meta.receiver,
          documentType: meta.documentType,
          documentVersion: meta.documentVersion,
          digest: meta.digest,
          size: meta.size
        })
        recorded = done
        // Awaited below; if the store fails first, the error the caller sees is the store's.
        done.catch(() => {})
        const unsigned: Omit<Receipt, 'signature'> = {
          messageId: meta.messageId,
          status: 'accepted',
          sender: meta.sender,
          receiver: meta.receiver,
          documentType: meta.documentType,
          documentVersion: meta.documentVersion,
          receivedAt: meta.receivedAt,
          digest: meta.digest,
          trail
        }
        // The seal comes with the checks (made in their thread) unless they could not make it.
        const [signature, seal] = await Promise.all([
          deps.signer.signReceipt(unsigned),
          checked.seal ?? deps.signer.seal({
            messageId: meta.messageId,
            sender: meta.sender,
            receiver: meta.receiver,
            documentType: meta.documentType,
            documentVersion: meta.documentVersion,
            digest: meta.digest,
            acceptedAt: meta.receivedAt,
            senderSignature: meta.senderSignature
          })
        ])
        return { receipt: withSignature(unsigned, signature), seal }
      })
    } catch (err) {
      if (recorded !== undefined) {
        await this.notStored(meta, {
          code: (err as { code?: string }).code ?? 'EGIF_ERR_STORAGE_UNAVAILABLE',
          status: (err as { status?: number }).status ?? 503,
          detail: 'not stored after its accepted record was written'
        })
      }
      throw err
    }
    if (result.duplicate) {
      // Another hub process stored the same message while this one was writing its record.
      if (recorded !== undefined) await this.notStored(meta, { status: 200, detail: 'not stored: another hub process stored the same message at the same time; answered with its receipt' })
      return { status: 200, receipt: result.message.receipt, message: result.message }
    }
    await recorded
    deps.archive?.(meta.receivedAt, meta.digest, req.body).catch(() => { /* reported by the archive */ })
    await deps.enqueue(result.message)
    return { status: 202, receipt: result.message.receipt, message: result.message }
  }

  /**
   * The `accepted` record is in the trail but the message was not stored: a record after it
   * says so, so that an auditor does not count a message the hub does not hold.
   */
  private async notStored (meta: MessageMeta, outcome: { code?: string, status: number, detail: string }): Promise<void> {
    await this.deps.trail.append({
      type: 'rejected',
      messageId: meta.messageId,
      claimedSender: meta.sender,
      caller: meta.sender,
      digest: meta.digest,
      size: meta.size,
      ...outcome
    }).catch(() => { /* a trail that fails is reported by the store's error or the next append */ })
  }
}

function header (req: IntakeRequest, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}
