import {
  applyMapping, defineAdapter, fieldMappingSchema, PermanentDeliveryError, routingMappingSchema, signerFromConfig, signingConfigSchema, sleep, submitDocument, submitFailure,
  TransientDeliveryError, type Adapter, type FieldMapping, type FieldSource, type InboundContext, type SigningConfig
} from '../../src/adapters-sdk/index.js'
import { HubError } from '../../src/errors.js'
import { AbortError, ident, openDb, type Db } from './db.js'

export { inboxTableSql, outboxColumnsSql } from './ddl.js'

export interface SqlTableConfig {
  /** `postgres://…` or `mariadb://…` (`mysql://…`). Prefer `urlEnv` when the URL holds a password. */
  url?: string
  /** Name of the environment variable that holds the URL. */
  urlEnv?: string
  /** Outbound: the inbox table the adapter inserts into. Inbound: the outbox table it polls. */
  table: string
  /** Inbound: the outbox's ordering key. Default `id`. */
  idColumn: string
  /** Inbound: routing from the row's columns; `messageId` defaults to `<table>-<id>`. */
  routing: { receiver: FieldSource, messageId?: FieldSource, documentType?: string, documentVersion?: string, conversationId?: FieldSource }
  /** Inbound: the JSON document built from the row's columns… */
  mapping?: FieldMapping
  /** …or the column that holds the whole document (XML or JSON). */
  bodyColumn?: string
  /** With `bodyColumn`: the documents' media type. Default `application/json`. */
  contentType: string
  /** Inbound: rows taken per transaction. Default 50. */
  batchSize: number
  /** Inbound: how often the outbox is polled, ms. Default 1000. */
  pollMs: number
  signing?: SigningConfig
}

const IDENT = '^[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?$'

function urlOf (c: SqlTableConfig): string {
  const url = c.url ?? (c.urlEnv !== undefined ? process.env[c.urlEnv] : undefined)
  if (url === undefined || url === '') throw new HubError('EGIF_ERR_ADAPTER_CONFIG', `sql-table: no database URL (${c.urlEnv !== undefined ? `the environment variable ${c.urlEnv} is not set` : 'set url or urlEnv'})`)
  return url
}

/** A row of the outbox as a standard document. Pure. */
export function rowToStandard (row: Record<string, unknown>, config: SqlTableConfig): { routing: { messageId: string, receiver: string, documentType?: string, documentVersion?: string, conversationId?: string }, contentType: string, body: Buffer } {
  const r = config.routing
  const id = row[config.idColumn]
  const routing = applyMapping(row, {
    receiver: r.receiver,
    ...(r.messageId !== undefined ? { messageId: r.messageId } : {}),
    ...(r.conversationId !== undefined ? { conversationId: r.conversationId } : {})
  }) as { receiver: string, messageId?: string, conversationId?: string }
  const messageId = routing.messageId ?? `${config.table.replace(/\./g, '-')}-${String(id)}`
  const base = { ...routing, messageId, documentType: r.documentType, documentVersion: r.documentVersion }
  if (config.bodyColumn !== undefined) {
    const v = row[config.bodyColumn]
    if (v === null || v === undefined || v === '') throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `column "${config.bodyColumn}" is empty`, { field: config.bodyColumn })
    return { routing: base, contentType: config.contentType, body: Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8') }
  }
  if (config.mapping === undefined) throw new HubError('EGIF_ERR_ADAPTER_CONFIG', 'sql-table inbound needs "mapping" or "bodyColumn"')
  // Dates from the driver become ISO dates, as JSON documents carry them.
  const plain = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString().slice(0, 10) : typeof v === 'bigint' ? Number(v) : v]))
  return { routing: base, contentType: 'application/json', body: Buffer.from(JSON.stringify(applyMapping(plain, config.mapping))) }
}

/** Whether a database error will pass (connection, lock, missing table) or not (the data does not fit). */
function classify (err: unknown, what: string): Error {
  if (err instanceof AbortError) return new TransientDeliveryError(`${what}: no answer from the database in time`, { code: 'EGIF_ERR_DELIVERY_TIMEOUT', cause: err })
  const e = err as { code?: unknown, errno?: unknown, message?: string }
  const sqlstate = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined
  const errno = typeof e.errno === 'number' ? e.errno : undefined
  const detail = `${what}: ${e.message ?? String(err)}`
  // SQLSTATE classes 22 (data exception) and 23 (integrity), and MariaDB's equivalents: the same row fails again.
  const permanent = (sqlstate !== undefined && (sqlstate.startsWith('22') || sqlstate.startsWith('23'))) ||
    (errno !== undefined && [1048, 1062, 1264, 1366, 1406, 3819, 4025].includes(errno))
  return permanent ? new PermanentDeliveryError(detail, { cause: err }) : new TransientDeliveryError(detail, { cause: err })
}

async function pollOnce (ctx: InboundContext<SqlTableConfig>, db: Db, submit: (doc: ReturnType<typeof rowToStandard>) => ReturnType<InboundContext<SqlTableConfig>['submit']>): Promise<number> {
  const c = ctx.config
  const t = ident(db.dialect, c.table)
  const id = ident(db.dialect, c.idColumn)
  return await db.tx(async (q) => {
    // SKIP LOCKED: several hubs (cluster mode) can poll one outbox without taking the same row.
    const rows = await q.query(`SELECT * FROM ${t} WHERE egif_status IS NULL ORDER BY ${id} LIMIT ${Math.floor(c.batchSize)} FOR UPDATE SKIP LOCKED`)
    let handled = 0
    for (const row of rows) {
      if (ctx.signal.aborted) break
      let status: 'sent' | 'failed'
      let detail: string
      try {
        const r = await submit(rowToStandard(row, c))
        status = 'sent'
        detail = JSON.stringify(r.receipt)
      } catch (err) {
        const f = submitFailure(err)
        // The hub cannot take it now: this row and the rest wait for the next poll.
        if (f.retry) { ctx.log.warn({ row: row[c.idColumn], code: f.code }, 'the hub cannot take the row now'); break }
        status = 'failed'
        detail = `${f.code}: ${f.detail}`
      }
      // The hand-off is recorded in the same transaction that holds the row.
      await q.query(`UPDATE ${t} SET egif_status = ?, egif_handled_at = ?, egif_detail = ? WHERE ${id} = ?`, [status, new Date(), detail, row[c.idColumn]])
      handled++
    }
    return handled
  })
}

/**
 * `sql-table`: for systems that integrate through their database. Outbound, each document is
 * inserted into an inbox table, once per sender and message id (a repeat does nothing). Inbound,
 * new rows of an outbox table are mapped to documents and submitted; each row is marked `sent`
 * (with the receipt) or `failed` (with the reason) in the transaction that locked it.
 * PostgreSQL and MariaDB.
 */
export function createSqlTableAdapter (): Adapter<SqlTableConfig> {
  // One pool per database URL, per adapter instance (per hub), closed with the hub.
  const pools = new Map<string, Db>()
  const dbFor = (config: SqlTableConfig): Db => {
    const url = urlOf(config)
    let db = pools.get(url)
    if (db === undefined) { db = openDb(url); pools.set(url, db) }
    return db
  }
  return defineAdapter<SqlTableConfig, any>({
    name: 'sql-table',
    description: 'Insert each document into an inbox table of the legacy system\'s database; submit the new rows of its outbox table (PostgreSQL, MariaDB).',
    configSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['table'],
      anyOf: [{ required: ['url'] }, { required: ['urlEnv'] }],
      properties: {
        url: { type: 'string', pattern: '^(postgres|postgresql|mariadb|mysql)://' },
        urlEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        table: { type: 'string', pattern: IDENT },
        idColumn: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$', default: 'id' },
        routing: routingMappingSchema('receiver'),
        mapping: fieldMappingSchema,
        bodyColumn: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' },
        contentType: { enum: ['application/json', 'application/xml'], default: 'application/json' },
        batchSize: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
        pollMs: { type: 'integer', minimum: 10, default: 1000 },
        signing: signingConfigSchema
      }
    },
    toStandard: rowToStandard,
    async deliver (msg, ctx) {
      let db: Db
      try {
        db = dbFor(ctx.config)
      } catch (err) {
        throw new TransientDeliveryError((err as Error).message, { code: 'EGIF_ERR_ADAPTER_CONFIG', cause: err })
      }
      const r = msg.routing
      const t = ident(db.dialect, ctx.config.table)
      const cols = 'sender, message_id, receiver, document_type, document_version, conversation_id, in_reply_to, content_type, body, digest, seal, accepted_at'
      const values = [r.sender, r.messageId, r.receiver, r.documentType, r.documentVersion, r.conversationId ?? null, r.inReplyTo ?? null, msg.contentType, msg.body.toString('utf8'), msg.digest, msg.seal, new Date(msg.acceptedAt)]
      // The key (sender, message_id) makes a retry of a delivery that did arrive do nothing.
      const onConflict = db.dialect === 'postgres' ? 'ON CONFLICT (sender, message_id) DO NOTHING' : 'ON DUPLICATE KEY UPDATE message_id = message_id'
      try {
        await db.tx(async (q) => { await q.query(`INSERT INTO ${t} (${cols}) VALUES (${values.map(() => '?').join(', ')}) ${onConflict}`, values) }, ctx.signal)
      } catch (err) {
        throw classify(err, `insert into ${ctx.config.table}`)
      }
    },
    async runInbound (ctx) {
      const db = openDb(urlOf(ctx.config))
      const signer = signerFromConfig(ctx.config.signing)
      try {
        while (!ctx.signal.aborted) {
          let handled = 0
          try {
            handled = await pollOnce(ctx, db, async (doc) => await submitDocument(ctx, doc, signer))
          } catch (err) {
            if (!ctx.signal.aborted) ctx.log.warn({ err }, 'polling the outbox table failed; trying again')
          }
          // A full batch means more may be waiting: poll again at once.
          if (handled < ctx.config.batchSize) await sleep(ctx.config.pollMs, ctx.signal)
        }
      } finally {
        await db.close()
      }
    },
    async close () {
      const all = [...pools.values()]
      pools.clear()
      await Promise.all(all.map(async (db) => { await db.close() }))
    }
  })
}

export default createSqlTableAdapter()
