import type { Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { tapConformance } from '../../conformance/adapters/index.js'
import { sqlTableSubject } from '../../adapters/sql-table/conformance.js'
import { inboxTableSql, outboxColumnsSql } from '../../adapters/sql-table/index.js'
import { dialectOf, ident, openDb } from '../../adapters/sql-table/db.js'
import { KEYS, NOTE, headers, startHub, until } from '../helpers/hub.js'

/** The sql-table tests, run against one real database (PostgreSQL or MariaDB). */
export async function sqlTableCases (t: Test, url: string): Promise<void> {
  const d = dialectOf(url)
  const db = openDb(url)
  t.teardown(async () => { await db.close() })
  try {
    await db.tx(async (q) => { await q.query('SELECT 1') })
  } catch (err) {
    // Never skipped: the adapter's claims are only worth something when checked against the database.
    t.fail(`the database at ${url} does not answer (${(err as Error).message})${process.env.CI !== undefined ? ' and CI is set' : ''}`)
    return
  }
  const run = async (sql: string, p: unknown[] = []): Promise<Array<Record<string, unknown>>> => await db.tx(async (q) => await q.query(sql, p))

  await t.test(`sql-table passes the adapter conformance suite on ${d}`, async (t) => {
    await tapConformance(t, sqlTableSubject(url))
  })

  await t.test(`through a hub on ${d}: documents land in the inbox table once; outbox rows become messages, marked sent or failed with the receipt or reason`, async (t) => {
    const suffix = randomBytes(4).toString('hex')
    const inbox = `egif_t_inbox_${suffix}`
    const outbox = `egif_t_outbox_${suffix}`
    await run(inboxTableSql(d, inbox))
    await run(`CREATE TABLE ${ident(d, outbox)} (id ${d === 'postgres' ? 'serial PRIMARY KEY' : 'int AUTO_INCREMENT PRIMARY KEY'}, order_no varchar(32), amount varchar(32), receiver varchar(64))`)
    await run(outboxColumnsSql(d, outbox))
    t.teardown(async () => {
      await run(`DROP TABLE IF EXISTS ${ident(d, inbox)}`)
      await run(`DROP TABLE IF EXISTS ${ident(d, outbox)}`)
    })
    await run(`INSERT INTO ${ident(d, outbox)} (order_no, amount, receiver) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)`, ['HR-1', '12.50', 'TH-B', 'HR-2', 'twelve', 'TH-B', 'HR-3', '7', 'TH-B'])
    const { app } = await startHub(t, {
      patch: (raw) => {
        raw.participants[2].delivery = { mode: 'push', adapter: 'sql-table', config: { url, table: inbox } }
        raw.participants[0].inbound = [{
          adapter: 'sql-table',
          config: { url, table: outbox, routing: { receiver: 'receiver', documentType: 'test-order' }, mapping: { schemaVersion: { const: '1.0' }, orderId: 'order_no', amount: { from: 'amount', type: 'number' } }, pollMs: 20 }
        }]
      }
    })
    await until(async () => Number((await run(`SELECT count(*) AS n FROM ${ident(d, outbox)} WHERE egif_status IS NULL`))[0].n) === 0, 'the outbox is handled')
    const rows = await run(`SELECT id, egif_status, egif_detail FROM ${ident(d, outbox)} ORDER BY id`)
    t.same(rows.map((r) => r.egif_status), ['sent', 'failed', 'sent'])
    t.match(JSON.parse(String(rows[0].egif_detail)), { messageId: `${outbox}-1`, status: 'accepted', sender: 'TH-A', receiver: 'TH-B', signature: String }, 'the receipt is kept with the row')
    t.match(String(rows[1].egif_detail), /^EGIF_ERR_ADAPTER_MAPPING: field "amount": "twelve" is not a number/)
    await until(async () => (await app.inject({ url: '/v1/inbox', headers: headers(KEYS.B, {}) })).json().messages.length === 2, 'the mailbox')
    const got = await app.inject({ url: `/v1/inbox/${outbox}-3`, headers: headers(KEYS.B, {}) })
    t.same(got.json(), { schemaVersion: '1.0', orderId: 'HR-3', amount: 7 })

    const body = NOTE('ถึงระบบ HR')
    const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'HR-LETTER-1', 'egif-conversation-id': 'conv-1' }) })
    t.equal(res.statusCode, 202)
    await until(async () => (await app.inject({ url: '/v1/messages/HR-LETTER-1', headers: headers(KEYS.A, {}) })).json().state === 'delivered', 'delivered into the table')
    const stored = await run(`SELECT * FROM ${ident(d, inbox)}`)
    t.equal(stored.length, 1)
    t.match(stored[0], { sender: 'TH-A', message_id: 'HR-LETTER-1', receiver: 'TH-C', document_type: 'test-note', document_version: '1.0', conversation_id: 'conv-1', content_type: 'application/xml', digest: res.json().digest })
    t.equal(stored[0].body, body, 'the document, Thai text intact')
  })
}
