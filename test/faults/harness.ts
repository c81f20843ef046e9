import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { StreamQueue } from '../../src/queue/redis-streams.js'
import type { Test } from 'tap'
import { hashApiKey } from '../../src/registry/participants.js'
import { FIXTURE_TYPES, KEYS, NOTE, until } from '../helpers/hub.js'
import { freePort, startChildHub, writeConfig, type ChildHub } from '../helpers/child-hub.js'
import { tmpDir } from '../helpers/tmp.js'

/**
 * The fault suite's shared pieces: a recipient system that keeps each message once (dropping
 * repeats by `EGIF-Sender` + `EGIF-Message-Id`, as real receivers do) and counts what it saw, a
 * load of senders that retry with the same id as real clients do, and the invariant every case
 * asserts: every message that got a 202 reaches the recipient exactly once, and the status API
 * shows every attempt.
 */

export const SENDER = 'TH-A'
export const RECEIVER = 'TH-C'
/** The key the recipient knows a message by. */
export const keyOf = (id: string): string => `${SENDER}/${id}`

/** What the recipient does with one request: its status, and how long it waits before answering. */
export interface Answer { status: number, delayMs?: number }

export interface Recipient {
  url: string
  /** Requests per message key, every one (repeats, failures, and those cut off included). */
  requests: Map<string, number>
  /** Messages kept (answered 2xx, or about to be): each once; repeats are dropped. */
  kept: Set<string>
  /** Requests for a message already kept: dropped, counted. */
  duplicates: number
  /** The messages those repeats were of, with how many repeats each. */
  repeated: Map<string, number>
  /** Per message: answers the hub could not take as delivered (non-2xx, or later than its timeout). */
  failures: Map<string, number>
  /** Requests whose connection closed before the answer (the hub process died under them). */
  cutOff: number
  /** Messages whose bytes were not the ones sent. */
  badBodies: string[]
  /** Requests being answered right now. */
  inFlight: number
  /** Stops listening and drops open connections: the recipient system is down. */
  down: () => Promise<void>
  /** Listens again on the same port. */
  up: () => Promise<void>
}

/**
 * A recipient system on loopback. `behave` decides each answer from the message key and how many
 * requests for it came so far (1 for the first). A message is kept as soon as its body is in and the
 * answer is to be 2xx, before any delay — as a receiver that commits, then answers — so an answer
 * the hub gives up waiting for leads to a repeat, which is dropped and counted.
 * `hubTimeoutMs`: answers delayed at least this long count as failures the hub saw.
 */
export async function startRecipient (t: Test, opts: { behave?: (key: string, n: number) => Answer, hubTimeoutMs: number, listening?: boolean }): Promise<Recipient> {
  const behave = opts.behave ?? ((): Answer => ({ status: 200 }))
  const port = await freePort()
  let server: Server | null = null
  const sockets = new Set<import('node:net').Socket>()
  const r: Recipient = {
    url: `http://127.0.0.1:${port}/inbound`,
    requests: new Map(),
    kept: new Set(),
    duplicates: 0,
    repeated: new Map(),
    failures: new Map(),
    cutOff: 0,
    badBodies: [],
    inFlight: 0,
    down: async () => {
      const s = server
      server = null
      if (s === null) return
      const closed = new Promise<void>((resolve) => s.close(() => { resolve() }))
      for (const sock of sockets) sock.destroy()
      await closed
    },
    up: async () => {
      if (server !== null) return
      const s = createServer(handle)
      s.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)) })
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(port, '127.0.0.1', () => { resolve() }) })
      server = s
    }
  }
  function handle (req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const id = String(req.headers['egif-message-id'])
      const key = `${String(req.headers['egif-sender'])}/${id}`
      const n = (r.requests.get(key) ?? 0) + 1
      r.requests.set(key, n)
      if (!Buffer.concat(chunks).equals(Buffer.from(NOTE(id)))) r.badBodies.push(key)
      const a = behave(key, n)
      const ok = a.status >= 200 && a.status < 300
      if (ok) {
        if (r.kept.has(key)) {
          r.duplicates++
          r.repeated.set(key, (r.repeated.get(key) ?? 0) + 1)
        } else r.kept.add(key)
      }
      if (!ok || (a.delayMs ?? 0) >= opts.hubTimeoutMs) r.failures.set(key, (r.failures.get(key) ?? 0) + 1)
      r.inFlight++
      let answered = false
      res.on('close', () => {
        r.inFlight--
        if (!answered) r.cutOff++
      })
      const answer = (): void => {
        answered = true
        if (!res.destroyed) res.writeHead(a.status, { 'content-type': 'text/plain' }).end(ok ? '' : 'try again later')
      }
      if ((a.delayMs ?? 0) > 0) setTimeout(answer, a.delayMs)
      else answer()
    })
  }
  if (opts.listening ?? true) await r.up()
  t.teardown(async () => { await r.down() })
  return r
}

/** The cluster queues (`cluster.queue`): the fault tests that depend on the queue run with each. */
export const QUEUES = ['bullmq', 'stream'] as const

/** A cluster configuration: TH-A sends notes, TH-C receives them by http-push at the recipient. */
export function clusterConfig (dir: string, prefix: string, recipientUrl: string, delivery: Record<string, number> = {}, cluster: Record<string, unknown> = {}): string {
  return writeConfig(dir, {
    hub: { id: 'FAULT-HUB', host: '127.0.0.1', dataDir: `${dir}/data`, logLevel: 'error' },
    cluster: { prefix, lockDurationMs: 2000, sweepIntervalMs: 2000, ...cluster },
    delivery: { maxAttempts: 50, initialBackoffMs: 100, maxBackoffMs: 1000, timeoutMs: 2000, concurrency: 4, ...delivery },
    documentTypes: { builtin: false, folders: [FIXTURE_TYPES + 'test-note'] },
    participants: [
      { id: SENDER, name: { en: 'Sender' }, apiKeys: [hashApiKey(KEYS.A)] },
      { id: RECEIVER, name: { en: 'Recipient' }, delivery: { mode: 'push', adapter: 'http-push', config: { url: recipientUrl } } }
    ],
    routes: [{ from: SENDER, to: RECEIVER, types: ['*'] }]
  })
}

/** Hub processes of one cluster, each `egif start` with the same configuration and REDIS_URL; killed by pid when the test ends. */
export async function startHubs (t: Test, configFile: string, redisUrl: string, n: number): Promise<ChildHub[]> {
  const hubs: ChildHub[] = []
  for (let i = 0; i < n; i++) hubs.push(await startHub(t, configFile, redisUrl))
  return hubs
}

export async function startHub (t: Test, configFile: string, redisUrl: string, port?: number): Promise<ChildHub> {
  const hub = await startChildHub(configFile, port ?? await freePort(), { REDIS_URL: redisUrl })
  t.teardown(() => { if (hub.proc.exitCode === null && hub.proc.signalCode === null) hub.proc.kill('SIGKILL') })
  return hub
}

export interface Load {
  /** Ids sent at least once. */
  sent: Set<string>
  /** Ids the hub accepted: a 202, or a 200 (the original receipt) when the sender sent again. */
  accepted: Set<string>
  /** How many answers of each kind the senders got (`202`, `503`, `refused` for no connection…). */
  answers: Map<string, number>
  /** Ids given up on: never accepted within the retry budget. */
  givenUp: Set<string>
  /** Resolves when every message is accepted or given up on. */
  done: Promise<void>
}

/**
 * `total` notes from TH-A to TH-C, `concurrency` at a time, spread over the hub processes `urls()`
 * names (asked afresh for each request, like a load balancer). A sender that gets no answer, a 5xx
 * or no connection sends the same message (same id, same bytes) again to the next process after a
 * short pause, for at most `retryForMs`, as a real client does; a 200 then means the first try was
 * stored after all.
 */
export function startLoad (opts: { urls: () => string[], total: number, idPrefix: string, concurrency?: number, retryForMs?: number }): Load {
  const load: Load = { sent: new Set(), accepted: new Set(), answers: new Map(), givenUp: new Set(), done: Promise.resolve() }
  const count = (what: string): void => { load.answers.set(what, (load.answers.get(what) ?? 0) + 1) }
  let next = 0
  const one = async (i: number): Promise<void> => {
    const id = `${opts.idPrefix}-${String(i).padStart(4, '0')}`
    const body = NOTE(id)
    const deadline = Date.now() + (opts.retryForMs ?? 0)
    for (let attempt = 0; ; attempt++) {
      const urls = opts.urls()
      const url = urls[(i + attempt) % urls.length]
      load.sent.add(id)
      let status: number | 'refused'
      try {
        const res = await fetch(`${url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.A}`, 'content-type': 'application/xml', 'egif-message-id': id, 'egif-sender': SENDER, 'egif-receiver': RECEIVER },
          body,
          signal: AbortSignal.timeout(20000)
        })
        const text = await res.text()
        status = res.status
        let code = ''
        if (status >= 300) try { code = ` ${String((JSON.parse(text) as { code?: string }).code)}` } catch { /* not a problem document */ }
        count(`${status}${code}`)
      } catch {
        status = 'refused'
        count(status)
      }
      if (status === 202 || status === 200) { load.accepted.add(id); return }
      if (status !== 'refused' && status < 500) { load.givenUp.add(id); return }
      if (Date.now() > deadline) { load.givenUp.add(id); return }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  load.done = Promise.all(Array.from({ length: opts.concurrency ?? 8 }, async () => {
    while (next < opts.total) await one(next++)
  })).then(() => {})
  return load
}

interface StatusEvent { type: string, attempt?: number, code?: string, detail?: string, at: string }
interface Status { state: string, events: StatusEvent[] }

export interface CheckOptions {
  /** A hub process to ask for status (any one: they share Redis). */
  hubUrl: () => string
  redisUrl: string
  prefix: string
  load: Load
  recipient: Recipient
  /**
   * How failed attempts must show in a message's events. Default: exactly as many `attempt-failed`
   * events as the recipient gave failing answers for it. A function returns what is wrong, if anything.
   */
  failed?: (id: string, failedEvents: StatusEvent[], recipientFailures: number) => string | undefined
  /** Bound on the wait for everything to settle. Default 60 s. */
  waitMs?: number
}

export interface Counts { sent: number, accepted: number, delivered: number, duplicates: number, lost: number, failedAttempts: number }

/** Jobs waiting, delayed or running in the cluster's queue (either driver), plus messages the store still has as queued. */
async function pending (redisUrl: string, prefix: string): Promise<number> {
  const u = new URL(redisUrl)
  const bull = new Queue('deliveries', { prefix, connection: { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: 1 } })
  const stream = new StreamQueue(redisUrl, { prefix })
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  try {
    const jobs = await bull.getJobCountByTypes('waiting', 'delayed', 'active', 'prioritized') + await stream.count()
    return jobs + await redis.scard(`${prefix}:queued`)
  } finally {
    await bull.close()
    await stream.close()
    redis.disconnect()
  }
}

/**
 * The invariant. Waits (bounded) until every accepted message is at the recipient and the cluster
 * has nothing left to deliver, then checks: nothing accepted is lost, each is kept once (repeats
 * counted), the bytes are the ones sent, and for each accepted message the status API says
 * `delivered` with every failed attempt as an `attempt-failed` event. Prints the counts.
 */
export async function checkInvariant (t: Test, o: CheckOptions): Promise<Counts> {
  const waitMs = o.waitMs ?? 60000
  const accepted = [...o.load.accepted].sort()
  await until(() => accepted.every((id) => o.recipient.kept.has(keyOf(id))), 'every accepted message at the recipient', waitMs).catch(() => {})
  await until(async () => await pending(o.redisUrl, o.prefix).catch(() => 1) === 0, 'nothing left to deliver in the cluster', waitMs).catch(() => {})

  const lost = accepted.filter((id) => !o.recipient.kept.has(keyOf(id)))
  const statuses = new Map<string, Status>()
  const ids = [...accepted]
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
      const res = await fetch(`${o.hubUrl()}/v1/messages/${id}`, { headers: { authorization: `Bearer ${KEYS.A}` } })
      statuses.set(id, await res.json() as Status)
    }
  }))
  const wrong: string[] = []
  let failedAttempts = 0
  for (const id of accepted) {
    const s = statuses.get(id)!
    if (s.state !== 'delivered') { wrong.push(`${id}: state ${s.state}`); continue }
    if (!s.events.some((e) => e.type === 'delivered')) wrong.push(`${id}: no delivered event`)
    const failedEvents = s.events.filter((e) => e.type === 'attempt-failed')
    failedAttempts += failedEvents.length
    const seen = o.recipient.failures.get(keyOf(id)) ?? 0
    const problem = o.failed !== undefined
      ? o.failed(id, failedEvents, seen)
      : failedEvents.length !== seen ? `${id}: ${failedEvents.length} attempt-failed events, the recipient gave ${seen} failing answers` : undefined
    if (problem !== undefined) wrong.push(problem)
  }
  const counts: Counts = {
    sent: o.load.sent.size,
    accepted: accepted.length,
    delivered: accepted.length - lost.length,
    duplicates: o.recipient.duplicates,
    lost: lost.length,
    failedAttempts
  }
  const extra = [...o.recipient.kept].filter((k) => !o.load.accepted.has(k.slice(SENDER.length + 1))).length
  t.comment(`sent ${counts.sent}, accepted ${counts.accepted}, delivered ${counts.delivered}, duplicates seen by the recipient ${counts.duplicates}, lost ${counts.lost}` +
    ` (failed attempts recorded ${failedAttempts}; answers to senders ${[...o.load.answers].map(([k, v]) => `${k}: ${v}`).join(', ')}` +
    `${extra > 0 ? `; delivered without an acceptance the sender saw ${extra}` : ''})`)
  // What the repeats were, from the status API: for reading a failure, not asserted here.
  for (const [key, n] of [...o.recipient.repeated].sort((a, b) => b[1] - a[1]).slice(0, 5)) {
    const s = statuses.get(key.slice(SENDER.length + 1))
    if (s !== undefined) t.comment(`repeated ${key} ×${n}: ${s.events.map((e) => `${e.type}${e.attempt !== undefined ? `#${e.attempt}` : ''}@${e.at.slice(11, 23)}`).join(' ')}`)
  }
  if (wrong.length > 0) {
    for (const w of wrong.slice(0, 5)) {
      const s = statuses.get(w.slice(0, w.indexOf(':')))
      if (s !== undefined) t.comment(`${w}: ${JSON.stringify(s.events)}`)
    }
  }
  t.same(lost, [], 'every accepted message reached the recipient (lost 0)')
  t.same(o.recipient.badBodies, [], 'with the exact bytes sent')
  t.same(wrong, [], 'the status API: every accepted message delivered, every failed attempt an attempt-failed event')
  return counts
}

/** A fresh folder and a prefix for one case. */
export function caseDir (t: Test): string {
  return tmpDir(t, 'egif-fault-')
}
