import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { HubError } from '../../errors.js'
import type { Principal } from '../../registry/participants.js'
import type { TrailRecord } from '../../trail/event.js'
import { toHex } from '../../trail/hash.js'

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
    const after = q.after !== undefined ? count(q.after, 'after') : undefined
    const limit = q.limit !== undefined ? count(q.limit, 'limit') : undefined
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

  app.get<{ Querystring: { from?: string, to?: string } }>('/v1/trail/consistency', async (req) => {
    req.principal()
    const first = count(req.query.from, 'from')
    const second = req.query.to !== undefined ? count(req.query.to, 'to') : trail.latestCheckpoint()?.body.size ?? 0
    if (!trail.checkpoints().some((c) => c.body.size === second)) throw new HubError('EGIF_ERR_NOT_FOUND', `no checkpoint of size ${second} in trail ${trail.log}`)
    if (first > second) throw new HubError('EGIF_ERR_BAD_REQUEST', 'from must not be larger than to')
    return { log: trail.log, from: first, to: second, proof: trail.index.tree.consistencyProof(first, second).map(toHex) }
  })

  app.get<{ Params: { messageId: string } }>('/v1/trail/proof/:messageId', async (req) => {
    const who = req.principal()
    const visible = (r: TrailRecord): boolean => who.role === 'auditor' || r.sender === who.id || r.receiver === who.id || r.caller === who.id
    const records = trail.search({ messageId: req.params.messageId, limit: 1000 }).records.filter(visible)
    if (records.length === 0) throw new HubError('EGIF_ERR_NOT_FOUND', `no trail record of ${req.params.messageId} visible to the caller in trail ${trail.log}`)
    let cp = trail.latestCheckpoint()
    if (cp === undefined || cp.body.size <= records[records.length - 1].i) cp = await trail.checkpoint()
    const size = cp!.body.size
    return {
      log: trail.log,
      checkpoint: cp!.checkpoint,
      ...(cp!.tsa !== undefined ? { tsa: cp!.tsa } : {}),
      size,
      records: records.map((r) => ({ index: r.i, record: trail.index.line(r.i).toString('utf8'), proof: trail.index.tree.inclusionProof(r.i, size).map(toHex) }))
    }
  })
}

function time (v: string | undefined, what: string): string | undefined {
  if (v === undefined || v === '') return undefined
  const t = Date.parse(v)
  if (Number.isNaN(t)) throw new HubError('EGIF_ERR_BAD_REQUEST', `${what} must be an ISO 8601 time`)
  return new Date(t).toISOString()
}

function count (v: string | undefined, what: string): number {
  if (v === undefined || !/^\d{1,15}$/.test(v)) throw new HubError('EGIF_ERR_BAD_REQUEST', `${what} must be a whole number`)
  return Number(v)
}
