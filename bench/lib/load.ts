import { Agent, request } from 'node:http'

export interface LoadOptions {
  url: string
  /** Headers and body of the i-th request (unique ids are the caller's business). */
  make: (i: number) => { headers: Record<string, string>, body: Buffer }
  durationMs: number
  concurrency: number
  /** Requests per second to offer; unlimited (saturation) when absent. */
  rate?: number
}

export interface LoadResult {
  requests: number
  ok: number
  errors: number
  statuses: Record<number, number>
  seconds: number
  perSecond: number
  latencyMs: { p50: number, p99: number, p999: number, max: number }
}

function percentile (sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

/**
 * A small closed-loop HTTP load generator over keep-alive connections: `concurrency` requests in
 * flight, for `durationMs`, optionally paced to `rate` requests/s. Measures what the client sees.
 */
export async function runLoad (opts: LoadOptions): Promise<LoadResult> {
  const target = new URL(opts.url)
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency })
  const latencies: number[] = []
  const statuses: Record<number, number> = {}
  let next = 0
  let errors = 0
  const start = performance.now()
  const end = start + opts.durationMs
  const interval = opts.rate !== undefined ? 1000 / opts.rate : 0

  const one = async (): Promise<void> => {
    while (performance.now() < end) {
      const i = next++
      if (interval > 0) {
        const due = start + i * interval
        const wait = due - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        if (performance.now() >= end) return
      }
      const { headers, body } = opts.make(i)
      const t0 = performance.now()
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
            res.resume()
            res.on('end', () => { resolve(res.statusCode ?? 0) })
          })
          req.on('error', reject)
          req.end(body)
        })
        statuses[status] = (statuses[status] ?? 0) + 1
        latencies.push(performance.now() - t0)
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, one))
  agent.destroy()
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
    latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999), max: sorted.length > 0 ? sorted[sorted.length - 1] : 0 }
  }
}
