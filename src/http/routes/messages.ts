import type { FastifyInstance } from 'fastify'
import { HubError, isHubError } from '../../errors.js'
import type { StoredMessage } from '../../store/types.js'
import type { Principal } from '../../registry/participants.js'
import { sha256Digest } from '../../pipeline/intake.js'

/**
 * The status view of a message: everything but the body. `deliveredReceipt`: the one it owes its
 * sender (`DeliveryWorker.owedReceipt`), where the message holds none yet.
 */
export function statusView (m: StoredMessage, deliveredReceipt = m.deliveredReceipt): Record<string, unknown> {
  return {
    messageId: m.messageId,
    sender: m.sender,
    receiver: m.receiver,
    documentType: m.documentType,
    documentVersion: m.documentVersion,
    state: m.state,
    digest: m.digest,
    size: m.size,
    receivedAt: m.receivedAt,
    senderSignature: m.senderSignature,
    ...(m.conversationId !== undefined ? { conversationId: m.conversationId } : {}),
    ...(m.inReplyTo !== undefined ? { inReplyTo: m.inReplyTo } : {}),
    attempts: m.attempts,
    events: m.events,
    receipt: m.receipt,
    ...(deliveredReceipt !== undefined ? { deliveredReceipt } : {})
  }
}

/** Finds a message the caller may see: as its sender, its receiver, an auditor or an operator. */
export function findVisible (messages: StoredMessage[], who: Principal, sender?: string): StoredMessage {
  const visible = messages.filter((m) => (sender === undefined || m.sender === sender) && (who.role !== 'participant' || m.sender === who.id || m.receiver === who.id))
  if (visible.length === 0) throw new HubError('EGIF_ERR_NOT_FOUND', 'no such message visible to the caller')
  if (visible.length > 1) {
    // The caller's own message wins over one it received with the same id.
    const own = visible.filter((m) => m.sender === who.id)
    if (own.length === 1) return own[0]
    throw new HubError('EGIF_ERR_MESSAGE_AMBIGUOUS', `senders ${visible.map((m) => m.sender).join(', ')} all used this id`)
  }
  return visible[0]
}

export async function messageRoutes (app: FastifyInstance): Promise<void> {
  const hub = app.hub

  app.post('/v1/messages', async (req, reply) => {
    const receivedAt = new Date()
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    let principal: Principal | undefined
    try {
      hub.assertAccepting()
      principal = req.principal()
      if (principal.role !== 'participant') throw new HubError('EGIF_ERR_AUTH_FORBIDDEN', 'only participants send messages')
      const result = await hub.intake.submit({ principal, headers: req.headers, body, receivedAt })
      return await reply.code(result.status).header('location', `/v1/messages/${encodeURIComponent(result.receipt.messageId)}`).send(result.receipt)
    } catch (err) {
      if (isHubError(err) && err.status < 500) {
        // Auditors ask who tried what: the refusal is recorded, without the body.
        hub.recordRejection({
          at: receivedAt.toISOString(),
          caller: principal?.id,
          claimedSender: headerOf(req.headers['egif-sender']),
          messageId: headerOf(req.headers['egif-message-id']),
          code: err.code,
          status: err.status,
          size: body.length,
          ...(body.length > 0 && body.length <= hub.config.limits.maxBodyBytes ? { digest: sha256Digest(body) } : {})
        })
      }
      throw err
    }
  })

  app.get<{ Params: { id: string }, Querystring: { sender?: string } }>('/v1/messages/:id', async (req) => {
    const who = req.principal()
    const m = findVisible(await hub.store.withId(req.params.id), who, req.query.sender)
    return statusView(m, await hub.worker.owedReceipt(m))
  })
}

function headerOf (v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v
  return s === undefined ? undefined : s.slice(0, 128)
}
