import type { FastifyInstance } from 'fastify'
import { HubError } from '../../errors.js'
import { routingHeaders } from '../../adapters-sdk/headers.js'
import type { Principal } from '../../registry/participants.js'
import type { StoredMessage } from '../../store/types.js'
import { findVisible } from './messages.js'
import { pageLimit } from '../query.js'

/** The mailbox of a pull participant (DESIGN §1): list, fetch, ack. */
export async function inboxRoutes (app: FastifyInstance): Promise<void> {
  const hub = app.hub

  function receiver (who: Principal): string {
    if (who.role !== 'participant') throw new HubError('EGIF_ERR_AUTH_FORBIDDEN', 'only participants have a mailbox')
    const p = hub.participants.get(who.id)!
    if (p.delivery.mode !== 'pull') throw new HubError('EGIF_ERR_INBOX_NOT_PULL', `${who.id} receives by push (${p.delivery.adapter ?? ''}), not from the mailbox`)
    return who.id
  }

  async function inMailbox (who: Principal, id: string, sender?: string): Promise<StoredMessage> {
    const me = receiver(who)
    return findVisible((await hub.store.withId(id)).filter((x) => x.receiver === me), who, sender)
  }

  app.get<{ Querystring: { limit?: string, after?: string } }>('/v1/inbox', async (req) => {
    const me = receiver(req.principal())
    const limit = pageLimit(req.query.limit)
    if (req.query.after !== undefined && !/^\d{1,15}$/.test(req.query.after)) throw new HubError('EGIF_ERR_BAD_REQUEST', 'after must be the next cursor of an earlier page')
    const page = await hub.store.inbox(me, { after: req.query.after, limit })
    return {
      messages: page.messages.map((m) => ({
        messageId: m.messageId,
        sender: m.sender,
        documentType: m.documentType,
        documentVersion: m.documentVersion,
        contentType: m.contentType,
        digest: m.digest,
        size: m.size,
        receivedAt: m.receivedAt,
        ...(m.conversationId !== undefined ? { conversationId: m.conversationId } : {})
      })),
      ...(page.next !== undefined ? { next: page.next } : {})
    }
  })

  app.get<{ Params: { id: string }, Querystring: { sender?: string } }>('/v1/inbox/:id', async (req, reply) => {
    const m = await inMailbox(req.principal(), req.params.id, req.query.sender)
    if (m.state !== 'in-mailbox' && m.state !== 'acked') throw new HubError('EGIF_ERR_NOT_FOUND', `message ${m.messageId} is not in the mailbox (state ${m.state})`)
    const msg = await hub.worker.standardMessage(m, m.attempts)
    return await reply.headers(routingHeaders(msg)).header('egif-state', m.state).send(msg.body)
  })

  app.post<{ Params: { id: string }, Querystring: { sender?: string } }>('/v1/inbox/:id/ack', async (req) => {
    const who = req.principal()
    const m = await inMailbox(who, req.params.id, req.query.sender)
    if (m.state === 'acked') return m.deliveredReceipt
    if (m.state !== 'in-mailbox') throw new HubError('EGIF_ERR_NOT_FOUND', `message ${m.messageId} is not in the mailbox (state ${m.state})`)
    return await hub.worker.ack(m, who.id)
  })
}
