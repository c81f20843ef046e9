import { fileURLToPath } from 'node:url'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Test } from 'tap'
import { pino } from 'pino'
import { resolveConfig } from '../../src/config/load.js'
import { hashApiKey } from '../../src/registry/participants.js'
import { Hub } from '../../src/hub.js'
import { buildApp } from '../../src/http/app.js'
import { tmpDir } from './tmp.js'

export const FIXTURE_TYPES = fileURLToPath(new URL('../fixtures/types/', import.meta.url))
export const KEYS = { A: 'key-a-0123456789', B: 'key-b-0123456789', C: 'key-c-0123456789', AUDITOR: 'key-aud-0123456789', OPERATOR: 'key-operator-0123456789' }

export const NOTE = (subject = 'Hello', extra = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Note xmlns="urn:test:note:1" version="1.0"><Subject>${subject}</Subject><Text>สวัสดี${extra}</Text></Note>\n`
export const ORDER = (orderId = 'o-1', amount = 10): string => JSON.stringify({ schemaVersion: '1.0', orderId, amount })

/** The configuration of the test hub: A sends, B pulls, C is pushed to `pushUrl`. */
export function testConfig (dataDir: string, pushUrl: string, patch: (raw: any) => void = () => {}): ReturnType<typeof resolveConfig> {
  const raw: any = {
    // In-process tests check documents on the event loop (a check thread costs seconds to start
    // under the test runner's TypeScript loader); test/pipeline/check-pool.test.ts runs the same
    // checks in threads, and the tests that start real hub processes use the default (threads).
    hub: { id: 'TEST-HUB', dataDir, logLevel: 'silent', checkThreads: 0 },
    delivery: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 200, timeoutMs: 1000, concurrency: 4 },
    documentTypes: { builtin: false, folders: [FIXTURE_TYPES + 'test-note', FIXTURE_TYPES + 'test-order'] },
    participants: [
      { id: 'TH-A', name: { en: 'Agency A' }, apiKeys: [hashApiKey(KEYS.A)] },
      { id: 'TH-B', name: { th: 'หน่วยงานบี', en: 'Agency B' }, apiKeys: [hashApiKey(KEYS.B)], delivery: { mode: 'pull' } },
      { id: 'TH-C', name: { en: 'Agency C' }, apiKeys: [hashApiKey(KEYS.C)], delivery: { mode: 'push', adapter: 'http-push', config: { url: pushUrl } } }
    ],
    auditors: [{ id: 'AUDITOR', apiKeys: [hashApiKey(KEYS.AUDITOR)] }],
    routes: [
      { from: 'TH-A', to: ['TH-B', 'TH-C'], types: ['test-note', 'test-order'] },
      { from: 'TH-B', to: 'TH-A', types: ['test-note'] }
    ]
  }
  patch(raw)
  return resolveConfig(raw, `${dataDir}/test-hub.yaml`, {})
}

/** A `testConfig` patch: `OPS`, an operator, with the key `KEYS.OPERATOR`. */
export function withOperator (raw: any): void {
  raw.operators = [{ id: 'OPS', apiKeys: [hashApiKey(KEYS.OPERATOR)] }]
}

export interface Sink {
  url: string
  requests: Array<{ headers: IncomingMessage['headers'], body: Buffer }>
  /** Status to answer with, per request number (1-based); default 200. */
  answer: (n: number) => { status: number, headers?: Record<string, string> }
  server: Server
}

/** A recipient system that records what it receives. */
export async function startSink (t: Test): Promise<Sink> {
  const sink: Sink = { url: '', requests: [], answer: () => ({ status: 200 }), server: createServer() }
  sink.server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      sink.requests.push({ headers: req.headers, body: Buffer.concat(chunks) })
      const a = sink.answer(sink.requests.length)
      res.writeHead(a.status, a.headers).end()
    })
  })
  await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve))
  const addr = sink.server.address()
  sink.url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/inbound`
  t.teardown(async () => { await new Promise<void>((resolve) => sink.server.close(() => { resolve() })) })
  return sink
}

/**
 * A recipient that counts deliveries per message id and answers 200 after `delayMs`, so that many
 * deliveries are still pending or in flight when a test crashes something.
 */
export async function startCountingSink (t: Test, delayMs: number): Promise<{ url: string, seen: Map<string, number> }> {
  const sink = await startSink(t)
  sink.server.removeAllListeners('request')
  const seen = new Map<string, number>()
  sink.server.on('request', (req, res) => {
    req.resume()
    req.on('end', () => {
      const id = String(req.headers['egif-message-id'])
      seen.set(id, (seen.get(id) ?? 0) + 1)
      setTimeout(() => res.writeHead(200).end(), delayMs)
    })
  })
  return { url: sink.url, seen }
}

/** A hub with the test configuration and its (not listening) app. */
export async function startHub (t: Test, opts: { patch?: (raw: any) => void, dataDir?: string, pushUrl?: string } = {}) {
  const dataDir = opts.dataDir ?? tmpDir(t)
  const cfg = testConfig(dataDir, opts.pushUrl ?? 'http://127.0.0.1:9/unused', opts.patch)
  const hub = await Hub.create(cfg, { log: pino({ level: 'silent' }) })
  const app = buildApp(hub)
  await app.ready()
  t.teardown(async () => {
    await hub.close()
    await app.close()
  })
  return { hub, app, cfg, dataDir }
}

export function headers (key: string, more: Record<string, string>): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...more }
}

/** Polls until `check` is true (bounded), for asynchronous delivery. */
export async function until (check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
