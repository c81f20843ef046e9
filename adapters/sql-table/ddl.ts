import { ident, type Dialect } from './db.js'

/**
 * The inbox table the adapter inserts delivered documents into. The primary key on
 * (sender, message_id) is what makes a repeated delivery harmless.
 */
export function inboxTableSql (d: Dialect, table: string): string {
  const t = ident(d, table)
  const text = d === 'postgres' ? 'text' : 'longtext'
  const ts = d === 'postgres' ? 'timestamptz' : 'datetime(3)'
  const now = d === 'postgres' ? 'now()' : 'current_timestamp(3)'
  return `CREATE TABLE ${t} (
  sender varchar(64) NOT NULL,
  message_id varchar(128) NOT NULL,
  receiver varchar(64) NOT NULL,
  document_type varchar(128) NOT NULL,
  document_version varchar(32) NOT NULL,
  conversation_id varchar(128) NULL,
  in_reply_to varchar(128) NULL,
  content_type varchar(64) NOT NULL,
  body ${text} NOT NULL,
  digest varchar(80) NOT NULL,
  seal ${text} NOT NULL,
  accepted_at ${ts} NOT NULL,
  delivered_at ${ts} NOT NULL DEFAULT ${now},
  PRIMARY KEY (sender, message_id)
)${d === 'mariadb' ? ' CHARACTER SET utf8mb4' : ''}`
}

/**
 * The columns an outbox table needs besides the legacy system's own: `id` orders the rows, and
 * the adapter records the hand-off in `egif_status` (NULL new, `sent`, `failed`),
 * `egif_handled_at` and `egif_detail` (the receipt, or why the hub refused the row).
 */
export function outboxColumnsSql (d: Dialect, table: string): string {
  const t = ident(d, table)
  const ts = d === 'postgres' ? 'timestamptz' : 'datetime(3)'
  const text = d === 'postgres' ? 'text' : 'longtext'
  return `ALTER TABLE ${t} ADD COLUMN egif_status varchar(16) NULL, ADD COLUMN egif_handled_at ${ts} NULL, ADD COLUMN egif_detail ${text} NULL`
}
