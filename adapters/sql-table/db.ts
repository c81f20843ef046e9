import pg from 'pg'
import { createPool as createMysqlPool, type Pool as MysqlPool, type PoolConnection } from 'mysql2/promise'
import { HubError } from '../../src/errors.js'

export type Dialect = 'postgres' | 'mariadb'

/** One connection, inside or outside a transaction. SQL uses `?` placeholders for both dialects. */
export interface Conn {
  query: (sql: string, params?: unknown[]) => Promise<Array<Record<string, unknown>>>
}

/** A small pool over `pg` or `mysql2`: just what the adapter needs, one shape for both. */
export interface Db {
  dialect: Dialect
  /** Runs `fn` in a transaction; commits when it resolves, rolls back when it throws. */
  tx: <T>(fn: (c: Conn) => Promise<T>, signal?: AbortSignal) => Promise<T>
  close: () => Promise<void>
}

export function dialectOf (url: string): Dialect {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgres'
  if (/^(mysql|mariadb):\/\//i.test(url)) return 'mariadb'
  throw new HubError('EGIF_ERR_ADAPTER_CONFIG', 'the database URL must start with postgres:// or mariadb:// (mysql://)')
}

/** Quotes an identifier (checked by the config schema), schema-qualified or not. */
export function ident (d: Dialect, name: string): string {
  return name.split('.').map((p) => d === 'postgres' ? `"${p}"` : `\`${p}\``).join('.')
}

const toPg = (sql: string): string => { let n = 0; return sql.replace(/\?/g, () => `$${++n}`) }

/** Rejects when `signal` fires; `onAbort` gives the connection up so a blocked statement cannot pin it. */
async function raceAbort<T> (p: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (signal === undefined) return await p
  if (signal.aborted) { onAbort(); p.catch(() => {}); throw new AbortError() }
  return await new Promise<T>((resolve, reject) => {
    const abort = (): void => { onAbort(); reject(new AbortError()) }
    signal.addEventListener('abort', abort, { once: true })
    p.then((v) => { signal.removeEventListener('abort', abort); resolve(v) }, (e: unknown) => { signal.removeEventListener('abort', abort); reject(e) })
  })
}

export class AbortError extends Error {
  constructor () { super('the operation was aborted'); this.name = 'AbortError' }
}

export function openDb (url: string): Db {
  const dialect = dialectOf(url)
  if (dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: url, max: 4 })
    // An idle client's error (the server restarted) must not become an unhandled 'error' event.
    pool.on('error', () => {})
    return {
      dialect,
      tx: async (fn, signal) => {
        const connecting = pool.connect()
        const client = await raceAbort(connecting, signal, () => { connecting.then((c) => { c.release() }, () => {}) })
        let aborted = false
        const conn: Conn = { query: async (sql, params = []) => (await client.query(toPg(sql), params)).rows }
        const work = (async () => {
          await client.query('BEGIN')
          try {
            const r = await fn(conn)
            await client.query('COMMIT')
            return r
          } catch (err) {
            await client.query('ROLLBACK').catch(() => {})
            throw err
          }
        })()
        try {
          // On abort the connection is closed: the server rolls the open transaction back.
          return await raceAbort(work, signal, () => { aborted = true; work.catch(() => {}); client.release(true) })
        } finally {
          if (!aborted) client.release()
        }
      },
      close: async () => { await pool.end() }
    }
  }
  const pool: MysqlPool = createMysqlPool({ uri: url.replace(/^mariadb:/i, 'mysql:'), connectionLimit: 4, charset: 'utf8mb4' })
  return {
    dialect,
    tx: async (fn, signal) => {
      const connecting = pool.getConnection()
      const c: PoolConnection = await raceAbort(connecting, signal, () => { connecting.then((x) => { x.release() }, () => {}) })
      let destroyed = false
      const conn: Conn = {
        query: async (sql, params = []) => {
          const [rows] = await c.query(sql, params)
          return Array.isArray(rows) ? rows as Array<Record<string, unknown>> : []
        }
      }
      const work = (async () => {
        await c.beginTransaction()
        try {
          const r = await fn(conn)
          await c.commit()
          return r
        } catch (err) {
          await c.rollback().catch(() => {})
          throw err
        }
      })()
      try {
        return await raceAbort(work, signal, () => { destroyed = true; work.catch(() => {}); c.destroy() })
      } finally {
        if (!destroyed) c.release()
      }
    },
    close: async () => { await pool.end() }
  }
}
