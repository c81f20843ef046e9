import { Agent } from 'undici'
import { PermanentDeliveryError, TransientDeliveryError } from './errors.js'

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter (value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Retry or dead letter from an HTTP status: 2xx done, 408/425/429 and 5xx retried, other 4xx refused for good. */
export function httpOutcome (status: number): 'delivered' | 'transient' | 'permanent' {
  if (status >= 200 && status < 300) return 'delivered'
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient'
  return 'permanent'
}

/** The typed error for a request that got no answer: `EGIF_ERR_DELIVERY_TIMEOUT` when the attempt's signal fired. */
function noAnswer (err: unknown, url: string, signal: AbortSignal): TransientDeliveryError {
  if (signal.aborted) return new TransientDeliveryError(`no answer from ${url} in time`, { code: 'EGIF_ERR_DELIVERY_TIMEOUT', cause: err })
  const e = err as Error & { code?: string, cause?: { code?: string } }
  return new TransientDeliveryError(`cannot reach ${url}: ${e.cause?.code ?? e.code ?? e.message}`, { cause: err })
}

/**
 * `fetch` for adapters: the signal is passed on, and a failure to get an answer becomes a typed
 * error — `EGIF_ERR_DELIVERY_TIMEOUT` when the attempt's signal fired, transient otherwise.
 * Simple, but `fetch` costs several times the CPU per request of {@link DeliveryHttpClient}: an
 * adapter that delivers every message over HTTP should hold one of those instead.
 */
export async function fetchForDelivery (url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  try {
    return await fetch(url, { redirect: 'manual', ...init })
  } catch (err) {
    throw noAnswer(err, url, init.signal)
  }
}

function statusError (status: number, retryAfter: string | null | undefined, text: string, url: string): Error | undefined {
  const kind = httpOutcome(status)
  if (kind === 'delivered') return undefined
  const detail = `${url} answered ${status}${text !== '' ? `: ${text.slice(0, 200)}` : ''}`
  if (kind === 'transient') return new TransientDeliveryError(detail, { retryAfterMs: parseRetryAfter(retryAfter) })
  return new PermanentDeliveryError(detail)
}

/** Throws the typed error an HTTP status calls for (nothing for a 2xx). */
export function throwForStatus (res: Response, text: string, url: string): void {
  const err = statusError(res.status, res.headers.get('retry-after'), text, url)
  if (err !== undefined) throw err
}

/** What a recipient answered to {@link DeliveryHttpClient.request}. */
export interface HttpAnswer {
  status: number
  /** Response headers, names in lower case. */
  headers: Record<string, string | string[] | undefined>
  /** The start of the answer's body (up to `keepBytes`, decoded as UTF-8); the rest was read and dropped. */
  text: string
}

/** Throws the typed error an answer's status calls for (nothing for a 2xx), its first 200 characters in the detail. */
export function throwForAnswer (answer: HttpAnswer, url: string): void {
  const ra = answer.headers['retry-after']
  const err = statusError(answer.status, Array.isArray(ra) ? ra[0] : ra, answer.text, url)
  if (err !== undefined) throw err
}

export interface DeliveryHttpClientOptions {
  /** Most connections open at once to one origin. Default: no limit (the hub's deliveries at once to one recipient bound them). */
  connections?: number
  /**
   * How long an idle connection stays open for the next request, in ms. Default 4000: below the 5 s
   * of Node's and many servers' defaults; a shorter `Keep-Alive: timeout=` from the server wins.
   */
  keepAliveTimeoutMs?: number
  /** How many bytes of each answer's body are kept for {@link HttpAnswer.text}. Default 1024. */
  keepBytes?: number
}

export interface DeliveryRequest {
  /** Default `POST`. */
  method?: string
  headers: Record<string, string>
  /** Sent as it is, with its `content-length`. */
  body?: Buffer | string
  /** The attempt's signal: aborts the request (and its connection) when it fires. */
  signal: AbortSignal
}

/**
 * A keep-alive HTTP/1.1 client for adapters that deliver over HTTP (undici's `Agent`, one pool of
 * connections per origin). A request costs a fraction of `fetch`'s CPU: no WHATWG `Request`,
 * `Headers` or stream objects. Redirects are not followed (a 3xx is the answer, and a permanent
 * one for {@link throwForAnswer}); https uses Node's default CAs (with `NODE_EXTRA_CA_CERTS`), as
 * `fetch` does. Hold one per adapter instance and call {@link close} from the adapter's `close()`;
 * after `close` the next request opens new connections, so an instance shared by several hubs in
 * one process keeps working when one of them stops.
 */
export class DeliveryHttpClient {
  private agent: Agent | undefined
  private readonly targets = new Map<string, { origin: string, path: string }>()
  private readonly keepBytes: number

  constructor (private readonly opts: DeliveryHttpClientOptions = {}) {
    this.keepBytes = opts.keepBytes ?? 1024
  }

  /**
   * Sends one request and reads the whole answer (so the connection can carry the next one). An
   * answer of any status resolves; no answer throws a `TransientDeliveryError` —
   * `EGIF_ERR_DELIVERY_TIMEOUT` when `signal` fired, otherwise "cannot reach" with the reason
   * (refused, reset, DNS…).
   */
  async request (url: string, req: DeliveryRequest): Promise<HttpAnswer> {
    const target = this.target(url)
    this.agent ??= new Agent({
      connections: this.opts.connections ?? null,
      keepAliveTimeout: this.opts.keepAliveTimeoutMs ?? 4000,
      maxRedirections: 0
    })
    let res
    try {
      res = await this.agent.request({ origin: target.origin, path: target.path, method: (req.method ?? 'POST') as 'POST', headers: req.headers, body: req.body, signal: req.signal })
    } catch (err) {
      throw noAnswer(err, url, req.signal)
    }
    // A body that breaks off after the status line does not change what the status said.
    const text = await this.readStart(res.body).catch(() => '')
    return { status: res.statusCode, headers: res.headers, text }
  }

  /** Closes the connections once the requests in flight are answered. */
  async close (): Promise<void> {
    const agent = this.agent
    this.agent = undefined
    await agent?.close()
  }

  private target (url: string): { origin: string, path: string } {
    let t = this.targets.get(url)
    if (t === undefined) {
      const u = new URL(url)
      t = { origin: u.origin, path: `${u.pathname}${u.search}` }
      if (this.targets.size >= 1000) this.targets.clear()
      this.targets.set(url, t)
    }
    return t
  }

  private async readStart (body: AsyncIterable<Buffer>): Promise<string> {
    const kept: Buffer[] = []
    let n = 0
    for await (const chunk of body) {
      if (n < this.keepBytes) {
        kept.push(chunk)
        n += chunk.length
      }
    }
    if (n === 0) return ''
    return (kept.length === 1 ? kept[0] : Buffer.concat(kept)).subarray(0, this.keepBytes).toString('utf8')
  }
}
