import type { HubConfig } from '../../src/config/types.js'
import { openDb, dialectOf } from '../../adapters/sql-table/db.js'
import { inboxTableSql, outboxColumnsSql } from '../../adapters/sql-table/index.js'

/** The tables of OCSC's HR system in the demo database. */
export const OCSC_TABLES = { inbox: 'ocsc_hr_inbox', outbox: 'ocsc_hr_outbox' }

/**
 * Connects OCSC's HR system by its database (sql-table) when the demo is given a database URL:
 * creates the two tables if they are missing and points OCSC's delivery and inbound at them.
 * Documents for OCSC land in `ocsc_hr_inbox`; a row with an XML letter in `ocsc_hr_outbox`
 * (columns `receiver`, `document`) is sent through the hub and marked sent.
 */
export async function useOcscDatabase (cfg: HubConfig, url: string): Promise<void> {
  const d = dialectOf(url)
  const db = openDb(url)
  try {
    await db.tx(async (q) => {
      const exists = async (t: string): Promise<boolean> => {
        const rows = await q.query(d === 'postgres' ? 'SELECT to_regclass(?) AS t' : 'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = database() AND table_name = ?', [t])
        return rows.length > 0 && rows[0].t !== null
      }
      if (!(await exists(OCSC_TABLES.inbox))) await q.query(inboxTableSql(d, OCSC_TABLES.inbox))
      if (!(await exists(OCSC_TABLES.outbox))) {
        await q.query(`CREATE TABLE ${OCSC_TABLES.outbox} (id ${d === 'postgres' ? 'serial PRIMARY KEY' : 'int AUTO_INCREMENT PRIMARY KEY'}, receiver varchar(64) NOT NULL, document ${d === 'postgres' ? 'text' : 'longtext'} NOT NULL)`)
        await q.query(outboxColumnsSql(d, OCSC_TABLES.outbox))
      }
    })
  } finally {
    await db.close()
  }
  const ocsc = cfg.participants.find((p) => p.id === 'TH-OCSC')!
  ocsc.delivery = { mode: 'push', adapter: 'sql-table', config: { urlEnv: 'EGIF_DEMO_DATABASE_URL', table: OCSC_TABLES.inbox } }
  ocsc.inbound = [{ adapter: 'sql-table', config: { urlEnv: 'EGIF_DEMO_DATABASE_URL', table: OCSC_TABLES.outbox, routing: { receiver: 'receiver' }, bodyColumn: 'document', contentType: 'application/xml', pollMs: 1000 } }]
}
