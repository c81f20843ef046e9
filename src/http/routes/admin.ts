import type { FastifyInstance } from 'fastify'
import { HubError } from '../../errors.js'
import { parseJson } from '../../json/parse.js'
import type { Principal } from '../../registry/participants.js'
import type { StoredMessage } from '../../store/types.js'

function operator (who: Principal): Principal {
  if (who.role !== 'operator') throw new HubError('EGIF_ERR_AUTH_FORBIDDEN', 'dead letters and metrics are for operators (configured under operators)')
  return who
}

function deadLetterView (m: StoredMessage): Record<string, unknown> {
  const last = m.events[m.events.length - 1]
  return {
    message: `${m.sender}/${m.messageId}`,
    messageId: m.messageId,
    sender: m.sender,
    receiver: m.receiver,
    documentType: m.documentType,
    receivedAt: m.receivedAt,
    attempts: m.attempts,
    deadLetteredAt: last.at,
    code: last.code,
    reason: last.detail
  }
}

/**
 * Operator routes: the process's metrics, and dead letters, listed and replayed. A replay puts the
 * message back in the queue with its attempts counted from one again, and is recorded as a
 * `replayed` event naming the operator.
 */
export async function adminRoutes (app: FastifyInstance): Promise<void> {
  const hub = app.hub

  app.get('/v1/admin/metrics', async (req, reply) => {
    operator(req.principal())
    return await reply.type('text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store').send(await hub.metricsText())
  })

  app.get('/v1/admin/dead-letters', async (req) => {
    operator(req.principal())
    const dead = await hub.store.deadLetters()
    return { deadLetters: dead.map(deadLetterView) }
  })

  app.post('/v1/admin/dead-letters/replay', async (req) => {
    const who = operator(req.principal())
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    const body = (raw.length > 0 ? parseJson(raw, { maxBytes: 1024 * 1024 }) : {}) as { messages?: unknown, all?: unknown }
    let targets: string[]
    if (body.all === true) {
      targets = (await hub.store.deadLetters()).map((m) => `${m.sender}/${m.messageId}`)
    } else if (Array.isArray(body.messages) && body.messages.every((x) => typeof x === 'string' && x.includes('/'))) {
      targets = body.messages as string[]
    } else {
      throw new HubError('EGIF_ERR_BAD_REQUEST', 'send {"messages": ["SENDER/MESSAGE-ID", …]} or {"all": true}')
    }
    const replayed: string[] = []
    const notFound: string[] = []
    const notDead: string[] = []
    for (const t of targets) {
      const slash = t.indexOf('/')
      const m = await hub.store.get(t.slice(0, slash), t.slice(slash + 1))
      if (m === undefined) notFound.push(t)
      else if (m.state !== 'dead-lettered' || !await hub.worker.replay(m, who.id)) notDead.push(t)
      else replayed.push(t)
    }
    req.log.info({ operator: who.id, replayed: replayed.length }, 'dead letters replayed')
    return { replayed, notFound, notDead }
  })
}
