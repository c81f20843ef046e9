import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { createConnection } from 'mysql2/promise'
import { defineConformance, type AdapterSubject } from '../../conformance/adapters/index.js'
import { createSqlTableAdapter, inboxTableSql, outboxColumnsSql, type SqlTableConfig } from './index.js'
import { dialectOf, ident } from './db.js'

/** A connection for the stand-in's own statements (setup, locks), in either dialect. */
async function connect (url: string): Promise<{ run: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>, end: () => Promise<void> }> {
  if (dialectOf(url) === 'postgres') {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    await c.connect()
    return { run: async (sql, p = []) => { let n = 0; return (await c.query(sql.replace(/\?/g, () => `$${++n}`), p)).rows }, end: async () => { await c.end() } }
  }
  const c = await createConnection({ uri: url.replace(/^mariadb:/i, 'mysql:'), charset: 'utf8mb4' })
  return { run: async (sql, p = []) => { const [rows] = await c.query(sql, p); return Array.isArray(rows) ? rows as Array<Record<string, unknown>> : [] }, end: async () => { await c.end() } }
}

/**
 * The conformance subject of `sql-table` against a real database: each stand-in makes its own
 * uniquely named inbox and outbox tables and drops them. The database "is down" when the inbox
 * table is gone, refuses for good through a CHECK constraint, and hangs while another connection
 * holds a lock on the table.
 */
export function sqlTableSubject (url: string): AdapterSubject<SqlTableConfig> {
  const d = dialectOf(url)
  return defineConformance<SqlTableConfig>({
    adapter: createSqlTableAdapter(),
    config: { url, table: 'hr.egif_inbox' },
    peer: async () => {
      const admin = await connect(url)
      const suffix = randomBytes(4).toString('hex')
      const inbox = `egif_conf_inbox_${suffix}`
      const outbox = `egif_conf_outbox_${suffix}`
      const serial = d === 'postgres' ? 'serial PRIMARY KEY' : 'int AUTO_INCREMENT PRIMARY KEY'
      await admin.run(inboxTableSql(d, inbox))
      await admin.run(`CREATE TABLE ${ident(d, outbox)} (id ${serial}, order_no varchar(32) NOT NULL, amount varchar(32) NOT NULL, receiver varchar(64) NOT NULL)`)
      await admin.run(outboxColumnsSql(d, outbox))
      let locker: Awaited<ReturnType<typeof connect>> | undefined
      let n = 0
      const unlock = async (): Promise<void> => { await locker?.end().catch(() => {}); locker = undefined }
      return {
        config: { url, table: inbox },
        inboundConfig: {
          url,
          table: outbox,
          routing: { receiver: 'receiver', documentType: 'test-order' },
          mapping: { schemaVersion: { const: '1.0' }, orderId: 'order_no', amount: { from: 'amount', type: 'number' } },
          pollMs: 20
        },
        behaviours: ['accept', 'transient', 'permanent', 'hang'],
        behave: async (b) => {
          await unlock()
          await admin.run(`DROP TABLE IF EXISTS ${ident(d, inbox)}`)
          if (b === 'transient') return
          await admin.run(inboxTableSql(d, inbox))
          if (b === 'permanent') await admin.run(`ALTER TABLE ${ident(d, inbox)} ADD CONSTRAINT egif_conf_no_orders_${suffix} CHECK (document_type <> 'test-order')`)
          if (b === 'hang') {
            locker = await connect(url)
            if (d === 'postgres') { await locker.run('BEGIN'); await locker.run(`LOCK TABLE ${ident(d, inbox)} IN ACCESS EXCLUSIVE MODE`) } else await locker.run(`LOCK TABLES ${ident(d, inbox)} WRITE`)
          }
        },
        held: async () => Number((await admin.run(`SELECT count(*) AS n FROM ${ident(d, inbox)}`))[0].n),
        produce: async () => {
          n++
          await admin.run(`INSERT INTO ${ident(d, outbox)} (order_no, amount, receiver) VALUES (?, ?, ?)`, [`HR-${n}`, '1,250.50', 'TH-BB'])
        },
        pending: async () => Number((await admin.run(`SELECT count(*) AS n FROM ${ident(d, outbox)} WHERE egif_status IS NULL`))[0].n),
        close: async () => {
          await unlock()
          await admin.run(`DROP TABLE IF EXISTS ${ident(d, inbox)}`)
          await admin.run(`DROP TABLE IF EXISTS ${ident(d, outbox)}`)
          await admin.end()
        }
      }
    }
  })
}

export default sqlTableSubject(process.env.EGIF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
