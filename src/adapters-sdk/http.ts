import { Agent, type Dispatcher } from 'undici'
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
    const agent = this.agent
    return await new Promise<HttpAnswer>((resolve, reject) => {
      const answer = new AnswerReader(this.keepBytes, req.signal, resolve, (err) => { reject(noAnswer(err, url, req.signal)) })
      try {
        agent.dispatch({ origin: target.origin, path: target.path, method: (req.method ?? 'POST') as 'POST', headers: req.headers, body: req.body }, answer)
      } catch (err) {
        answer.onError(err as Error)
      }
    })
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

}

/**
 * Reads one answer off undici's dispatch: its status, its headers and the start of its body (the
 * rest is read and dropped, so that the connection can carry the next request). Without the stream
 * and async-resource objects of undici's `request`, which cost more than the exchange itself.
 */
class AnswerReader implements Dispatcher.DispatchHandlers {
  private abort: ((err?: Error) => void) | undefined
  private status = 0
  private headers: Record<string, string | string[] | undefined> = {}
  private readonly kept: Buffer[] = []
  private bytes = 0
  private settled = false
  private readonly onAbort: (() => void) | undefined

  constructor (
    private readonly keepBytes: number,
    private readonly signal: AbortSignal,
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (err: Error) => void
  ) {
    if (!signal.aborted) {
      this.onAbort = () => { this.abort?.(abortReason(signal)) }
      signal.addEventListener('abort', this.onAbort, { once: true })
    }
  }

  onConnect (abort: (err?: Error) => void): void {
    if (this.signal.aborted) {
      abort(abortReason(this.signal))
      return
    }
    this.abort = abort
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx answers come before the final one and say nothing about the delivery.
    if (statusCode < 200) return true
    this.status = statusCode
    this.headers = headersOf(rawHeaders)
    return true
  }

  onData (chunk: Buffer): boolean {
    if (this.bytes < this.keepBytes) {
      this.kept.push(chunk)
      this.bytes += chunk.length
    }
    return true
  }

  onComplete (): void {
    const text = this.bytes === 0 ? '' : (this.kept.length === 1 ? this.kept[0] : Buffer.concat(this.kept)).subarray(0, this.keepBytes).toString('utf8')
    this.finish({ status: this.status, headers: this.headers, text })
  }

  onError (err: Error): void {
    // A body that breaks off after the status line does not change what the status said.
    if (this.status !== 0) this.finish({ status: this.status, headers: this.headers, text: '' })
    else this.finish(undefined, err)
  }

  private finish (answer: HttpAnswer | undefined, err?: Error): void {
    if (this.settled) return
    this.settled = true
    if (this.onAbort !== undefined) this.signal.removeEventListener('abort', this.onAbort)
    if (answer !== undefined) this.resolve(answer)
    else this.reject(err!)
  }
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('the delivery attempt was aborted')
}

/** undici's raw headers (name, value, name, value…) as a record, names in lower case, repeated ones as arrays. */
function headersOf (raw: Buffer[]): Record<string, string | string[] | undefined> {
  // No prototype: a header named `__proto__` or `constructor` is a header like any other.
  const headers: Record<string, string | string[] | undefined> = Object.create(null)
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase()
    const value = raw[i + 1].toString('latin1')
    const had = headers[name]
    if (had === undefined) headers[name] = value
    else if (Array.isArray(had)) had.push(value)
    else headers[name] = [had, value]
  }
  return headers
}
