import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { HubError } from '../../errors.js'
import type { Principal } from '../../registry/participants.js'
import { consistencyProof, messageProof } from '../../trail/proofs.js'
import { wholeNumber } from '../query.js'

/**
 * The audit trail over HTTP (docs/audit.md). Auditors search and export; anyone authenticated
 * may read checkpoints and consistency proofs (they reveal nothing but sizes and hashes); a
 * sender or receiver gets the inclusion proofs of its own message's records.
 */
export async function auditRoutes (app: FastifyInstance): Promise<void> {
  const hub = app.hub
  const trail = hub.trail

  function auditor (who: Principal): void {
    if (who.role !== 'auditor') throw new HubError('EGIF_ERR_AUTH_FORBIDDEN', 'only auditors search and export the trail')
  }

  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/audit/events', async (req) => {
    auditor(req.principal())
    const q = req.query
    const after = q.after !== undefined ? wholeNumber(q.after, 'after') : undefined
    const limit = q.limit !== undefined ? wholeNumber(q.limit, 'limit') : undefined
    const page = trail.search({ messageId: q.messageId, participant: q.participant, documentType: q.documentType, from: time(q.from, 'from'), to: time(q.to, 'to'), limit, after })
    return { log: trail.log, records: page.records, ...(page.next !== undefined ? { next: String(page.next) } : {}) }
  })

  app.get<{ Querystring: { from?: string, to?: string } }>('/v1/audit/export', async (req, reply) => {
    auditor(req.principal())
    const from = time(req.query.from, 'from')
    const to = time(req.query.to, 'to')
    const lines = await trail.bundle({ from, to })
    return await reply
      .header('content-type', 'application/x-ndjson')
      .header('content-disposition', `attachment; filename="${trail.log}-trail.jsonl"`)
      .send(Readable.from(lines))
  })

  app.get('/v1/trail/checkpoint', async (req) => {
    req.principal()
    const cp = trail.latestCheckpoint() ?? await trail.checkpoint()
    return { log: trail.log, checkpoint: cp?.checkpoint, ...(cp?.tsa !== undefined ? { tsa: cp.tsa } : {}), size: cp?.body.size ?? 0 }
  })

  app.get<{ Querystring: { from?: string, to?: string, log?: string } }>('/v1/trail/consistency', async (req) => {
    req.principal()
    const from = wholeNumber(req.query.from, 'from')
    const to = req.query.to !== undefined ? wholeNumber(req.query.to, 'to') : undefined
    const log = elsewhere(req.query.log)
    if (log !== undefined) return await hub.trailPeers!.ask(log, { kind: 'consistency', from, ...(to !== undefined ? { to } : {}) })
    return consistencyProof(trail, from, to)
  })

  app.get<{ Params: { messageId: string }, Querystring: { log?: string } }>('/v1/trail/proof/:messageId', async (req) => {
    const who = req.principal()
    const reader = { id: who.id, role: who.role }
    const log = elsewhere(req.query.log)
    if (log !== undefined) return await hub.trailPeers!.ask(log, { kind: 'proof', messageId: req.params.messageId, who: reader })
    return await messageProof(trail, req.params.messageId, reader)
  })

  /**
   * `?log=`: the trail asked for, when it is another process's. In cluster mode the process that
   * keeps it answers through Redis (`TrailPeers`); an embedded hub keeps one trail.
   */
  function elsewhere (log: string | undefined): string | undefined {
    if (log === undefined || log === '' || log === trail.log) return undefined
    if (hub.trailPeers === undefined) throw new HubError('EGIF_ERR_NOT_FOUND', `this hub keeps trail ${trail.log}, not ${log}`)
    return log
  }
}

function time (v: string | undefined, what: string): string | undefined {
  if (v === undefined || v === '') return undefined
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw new HubError('EGIF_ERR_BAD_REQUEST', `${what} must be an ISO 8601 time`)
  return new Date(t).toISOString()
}
