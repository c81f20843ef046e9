import { connect, type Socket } from 'node:net'
import { percentile } from './figures.js'

/** The bytes of the i-th request to a target (its path and `host`), in parts written together. */
export type RequestBytes = (i: number, path: string, host: string) => Buffer[]

/**
 * Requests made of prepared variants (a document with its headers) and a message id per request:
 * each variant's bytes before and after the id are made once per target, and a request is those
 * two and its id, written together (one system call), instead of its headers assembled as text
 * (the load generator shares the machine with the system under test, and what it spends is
 * counted). Nothing of the size of a document is allocated per request: a copy of each request
 * (~6 KB, outside the pool of small buffers) made the load generator run a full garbage
 * collection every second or so, and requests due during its pauses went out late.
 */
export function preparedRequests (variants: Array<{ headers: Record<string, string>, body: Buffer }>, idHeader: string, idOf: (i: number) => string): RequestBytes {
  const byTarget = new Map<string, Array<{ before: Buffer, after: Buffer }>>()
  const templatesFor = (path: string, host: string): Array<{ before: Buffer, after: Buffer }> => {
    const key = `${host}${path}`
    let t = byTarget.get(key)
    if (t === undefined) {
      t = variants.map(({ headers, body }) => {
        let head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-length: ${body.length}\r\n`
        for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
        return { before: Buffer.from(`${head}${idHeader}: `, 'latin1'), after: Buffer.concat([Buffer.from('\r\n\r\n'), body]) }
      })
      byTarget.set(key, t)
    }
    return t
  }
  return (i, path, host) => {
    const all = templatesFor(path, host)
    const { before, after } = all[i % all.length]
    return [before, Buffer.from(idOf(i), 'latin1'), after]
  }
}

export interface LoadOptions {
  /** Targets; connections are spread over them (several processes of a cluster). */
  urls: string[]
  /** The i-th request (see {@link preparedRequests}). */
  make: RequestBytes
  /** Index of the first request (ids stay unique across the runs of one scenario). */
  first?: number
  durationMs: number
  /** Connections. Closed loop at saturation; the pool for paced runs. */
  concurrency: number
  /** Offered load, requests/s (open loop, latency counted from when each request was due). */
  rate?: number
  /** Called about once a second with what is done so far. */
  onTick?: (done: number, seconds: number) => void
}

export interface LoadResult {
  requests: number
  ok: number
  errors: number
  statuses: Record<number, number>
  seconds: number
  /** 2xx answers per second. */
  perSecond: number
  latencyMs: { p50: number, p99: number, p999: number, max: number }
  /** Next unused request index. */
  next: number
}

/**
 * One keep-alive HTTP/1.1 connection that sends prepared bytes and reads answers with a
 * `content-length` (what fastify sends). Much cheaper than `http.request`, which matters when the
 * load generator shares two cores with the system under test.
 */
class Connection {
  private socket: Socket
  private buf: Buffer = Buffer.alloc(0)
  private want = -1
  private status = 0
  private done: ((status: number) => void) | null = null
  private fail: ((err: Error) => void) | null = null
  /** Resolves once the connection is established. */
  readonly ready: Promise<void>

  constructor (readonly host: string, readonly port: number) {
    this.socket = connect({ host, port, noDelay: true })
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => { resolve() })
      this.socket.once('error', reject)
    })
    this.socket.on('data', (d: Buffer) => { this.onData(d) })
    this.socket.on('error', (err) => { this.fail?.(err) })
    this.socket.on('close', () => { this.fail?.(new Error('connection closed')) })
  }

  async send (parts: Buffer[]): Promise<number> {
    await this.ready
    return await new Promise<number>((resolve, reject) => {
      this.done = resolve
      this.fail = reject
      this.socket.cork()
      for (const p of parts) this.socket.write(p)
      this.socket.uncork()
    })
  }

  private onData (d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d])
    if (this.want < 0) {
      const end = this.buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = this.buf.subarray(0, end).toString('latin1')
      this.status = Number(head.slice(9, 12))
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
      if (m === null) { this.fail?.(new Error('answer without content-length')); return }
      this.want = end + 4 + Number(m[1])
    }
    if (this.buf.length < this.want) return
    this.buf = this.buf.subarray(this.want)
    this.want = -1
    const done = this.done
    this.done = null
    this.fail = null
    done?.(this.status)
  }

  close (): void { this.socket.destroy() }
}

/** Runs the load: closed loop at saturation, or paced at `rate` (open loop). */
export async function runLoad (opts: LoadOptions): Promise<LoadResult> {
  const targets = opts.urls.map((u) => new URL(u))
  const conns = Array.from({ length: opts.concurrency }, (_, i) => {
    const t = targets[i % targets.length]
    return { conn: new Connection(t.hostname, Number(t.port)), path: t.pathname, host: t.host }
  })
  // Connected before the clock starts: what is measured is requests on kept-alive connections,
  // as the systems of the agencies send them, not 256 TCP handshakes at once.
  await Promise.allSettled(conns.map(async (c) => { await c.conn.ready }))
  const latencies: number[] = []
  const statuses: Record<number, number> = {}
  let errors = 0
  let next = opts.first ?? 0
  const bytesOf = opts.make
  const start = performance.now()
  const end = start + opts.durationMs
  let lastTick = start
  const tick = (): void => {
    const now = performance.now()
    if (opts.onTick !== undefined && now - lastTick >= 1000) {
      lastTick = now
      opts.onTick(latencies.length, (now - start) / 1000)
    }
  }
  const record = (status: number, since: number): void => {
    statuses[status] = (statuses[status] ?? 0) + 1
    latencies.push(performance.now() - since)
    tick()
  }

  if (opts.rate === undefined) {
    await Promise.all(conns.map(async (c) => {
      while (performance.now() < end) {
        const bytes = bytesOf(next++, c.path, c.host)
        const t0 = performance.now()
        try { record(await c.conn.send(bytes), t0) } catch { errors++; return }
      }
    }))
  } else {
    // Open loop: request k is due at start + k/rate; a free connection takes the oldest due one.
    const rate = opts.rate
    const free = [...conns]
    const due: number[] = []
    let offered = 0
    let inFlight = 0
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (free.length > 0 && due.length > 0) {
          const c = free.pop()!
          const at = due.shift()!
          const bytes = bytesOf(next++, c.path, c.host)
          inFlight++
          c.conn.send(bytes).then((status) => { record(status, at); free.push(c) }, () => { errors++ }).finally(() => {
            inFlight--
            pump()
            if (performance.now() >= end && due.length === 0 && inFlight === 0) resolve()
          })
        }
      }
      const timer = setInterval(() => {
        const now = performance.now()
        const target = Math.min(now, end)
        while (start + (offered * 1000) / rate <= target) due.push(start + (offered++ * 1000) / rate)
        pump()
        tick()
        if (now >= end) {
          clearInterval(timer)
          if (due.length === 0 && inFlight === 0) resolve()
        }
      }, 1)
    })
  }
  for (const c of conns) c.conn.close()
  const seconds = (performance.now() - start) / 1000
  const sorted = Float64Array.from(latencies).sort()
  const ok = Object.entries(statuses).filter(([s]) => Number(s) >= 200 && Number(s) < 300).reduce((a, [, n]) => a + n, 0)
  return {
    requests: latencies.length + errors,
    ok,
    errors,
    statuses,
    seconds,
    perSecond: ok / seconds,
    latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted.length > 0 ? sorted[sorted.length - 1] : 0 },
    next
  }
}
