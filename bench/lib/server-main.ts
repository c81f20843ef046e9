import { sign } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { PerformanceObserver } from 'node:perf_hooks'
import { join } from 'node:path'
import { DOMParser } from '@xmldom/xmldom'
import Fastify from 'fastify'
import { XmlDocument } from 'libxml2-wasm'
import { pino } from 'pino'
import { SignedXml } from 'xml-crypto'
import xpath from 'xpath'
import { resolveConfig } from '../../src/config/load.js'
import { Hub } from '../../src/hub.js'
import { ThreadChecks } from '../../src/pipeline/check-pool.js'
import { buildApp } from '../../src/http/app.js'
import { applyHubV8Options } from '../../src/cli/v8-options.js'
import { hashApiKey } from '../../src/registry/participants.js'
import { XsdSchema } from '../../src/xml/xsd.js'
import { etaxTaxInvoiceType, RECEIVER, ROOT, SENDER, SENDER_KEY, CORPUS } from './fixtures.js'
import { loopLateness, percentile } from './figures.js'
import type { ByThread } from './servers.js'

/**
 * One process of a benchmark scenario, started by `servers.ts`. Kinds:
 *   bare       a fastify route that takes the same bytes and answers 202 (the HTTP ceiling)
 *   hub        the hub (embedded with fsync on, or one cluster process when `redisUrl` is given)
 *   xmlcrypto  a straightforward pipeline on xml-crypto's documented usage (the common Node build)
 *   sink       the receiving system: counts the distinct messages delivered to it
 * The spec comes as JSON in argv[3]. Prints `listening <url>`; on SIGUSR2 prints
 * `stats {peakRssMb, cpuMs, checkTids, threadsCpuMs, threadsWaitMs}` (peak RSS sampled every 50 ms; CPU user +
 * system since start, and split by thread: the event loop, the hub's document-check threads, the
 * rest — libuv's thread pool (file writes, fsync, signatures) and V8's own threads; and by the same
 * split, how long those threads waited for a CPU while ready to run; `checkTids`: the document-check
 * threads' operating-system ids).
 */
interface Spec { scenario?: 'a' | 'b' | 'c' | 'd', certFile?: string, sinkUrl?: string, redisUrl?: string, prefix?: string, clusterQueue?: 'bullmq' | 'stream', dataDir?: string, checkThreads?: number }
const kind = process.argv[2]
const spec = JSON.parse(process.argv[3] ?? '{}') as Spec
let peakRss = process.memoryUsage.rss()
setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 50).unref()
/** Document-check threads' operating-system ids (the hub kind sets them once it runs). */
let checkTids = new Set<number>()
/** The hub kind: deliveries given back to the queue so far (a recipient's slots were full). */
let givenBack = (): number | undefined => undefined
/**
 * CPU time by thread kind, and the time each kind spent ready to run but waiting for a CPU (the
 * scheduler's run queue, `/proc/<tid>/schedstat`; absent where the kernel does not keep it).
 */
function threadTimes (): { cpuMs: ByThread, waitMs?: ByThread } {
  const cpuMs = { main: 0, checks: 0, other: 0 }
  let waitMs: ByThread | undefined = { main: 0, checks: 0, other: 0 }
  let tids: string[]
  try {
    tids = readdirSync('/proc/self/task')
  } catch {
    // Not Linux: no split.
    return { cpuMs }
  }
  for (const tid of tids) {
    let stat: string
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    } catch {
      continue // the thread ended since the listing
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const k = Number(tid) === process.pid ? 'main' : checkTids.has(Number(tid)) ? 'checks' : 'other'
    cpuMs[k] += (Number(f[11]) + Number(f[12])) * 10
    if (waitMs === undefined) continue
    try {
      waitMs[k] += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6
    } catch (err) {
      // No schedstat in this kernel: no waits at all (a thread that just ended only loses its own).
      if (existsSync(`/proc/self/task/${tid}`) || (err as NodeJS.ErrnoException).code !== 'ENOENT') waitMs = undefined
    }
  }
  return waitMs !== undefined ? { cpuMs, waitMs } : { cpuMs }
}
/** How late the event loop ran: a stall (a garbage collection, a long synchronous call, the thread waiting for a CPU) shows as its max. */
const loop = loopLateness()
/** The garbage collector's pauses of the main thread since the last reading (every kind). */
let gc = { pauses: 0, totalMs: 0, maxMs: 0 }
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.pauses++
    gc.totalMs += e.duration
    gc.maxMs = Math.max(gc.maxMs, e.duration)
  }
}).observe({ entryTypes: ['gc'] })
process.on('SIGUSR2', () => {
  const cpu = process.cpuUsage()
  const late = loop.late()
  const pauses = { pauses: gc.pauses, totalMs: Math.round(gc.totalMs * 10) / 10, maxMs: Math.round(gc.maxMs * 10) / 10 }
  gc = { pauses: 0, totalMs: 0, maxMs: 0 }
  const m = process.memoryUsage()
  const mb = (n: number): number => Math.round(n / 1048576)
  const times = threadTimes()
  process.stdout.write(`stats ${JSON.stringify({ peakRssMb: mb(Math.max(peakRss, m.rss)), cpuMs: Math.round((cpu.user + cpu.system) / 1000), checkTids: [...checkTids], systemCpuMs: Math.round(cpu.system / 1000), threadsCpuMs: times.cpuMs, ...(times.waitMs !== undefined ? { threadsWaitMs: times.waitMs } : {}), loopLateMs: late, gc: pauses, givenBack: givenBack(), memoryMb: { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) } })}\n`)
})
const listening = (url: string): void => { process.stdout.write(`listening ${url}\n`) }
// The bench stops this process with SIGTERM (each kind below cleans up on it). A Ctrl-C reaches the
// whole process group: the bench decides, so SIGINT is left to it. A bench killed outright leaves
// this process to init: it then stops as on SIGTERM instead of living on.
process.on('SIGINT', () => {})
const parentPid = process.ppid
const orphaned = setInterval(() => {
  if (process.ppid === parentPid) return
  clearInterval(orphaned)
  process.kill(process.pid, 'SIGTERM')
}, 1000).unref()

/** Where a chunked body that starts at 0 ends (after its last chunk), or -1 when it has not all arrived. */
function chunkedEnd (b: Buffer): number {
  let pos = 0
  for (;;) {
    const nl = b.indexOf('\r\n', pos)
    if (nl < 0) return -1
    const size = parseInt(b.subarray(pos, nl).toString('latin1'), 16)
    if (Number.isNaN(size)) return -1
    const next = nl + 2 + size + 2
    if (b.length < next) return -1
    if (size === 0) return next
    pos = next
  }
}

/** Percentiles of delivery lags (ms; the seal's acceptedAt has ms precision). */
function lagSummary (lags: number[]): { n: number, p50: number, p99: number, max: number } {
  const sorted = Float64Array.from(lags).sort()
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.length === 0 ? 0 : sorted[sorted.length - 1] }
}

function rawFastify () {
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  return app
}

if (kind === 'sink') {
  // The recipient system: 200 to every POST, counting distinct sender/message ids; GET answers the
  // counts. HTTP/1.1 read straight off the socket (keep-alive, content-length or chunked bodies), so
  // the recipient takes little of the two cores it shares with the hub.
  const seen = new Set<string>()
  /** ms from acceptance to arrival of each message's first delivery, since the last `GET ?lag`. */
  const lags: number[] = []
  let posts = 0
  let firstSeal: string | undefined
  const OK = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n')
  const server = createNetServer((socket) => {
    socket.setNoDelay(true)
    let buf: Buffer = Buffer.alloc(0)
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.subarray(0, end).toString('latin1')
        // Header names in any case: found in a lower-cased copy, values read from the original.
        const lower = head.toLowerCase()
        const header = (name: string): string | undefined => {
          const at = lower.indexOf(`\r\n${name}:`)
          if (at < 0) return undefined
          const from = at + name.length + 3
          const to = lower.indexOf('\r\n', from)
          return head.slice(from, to < 0 ? head.length : to).trim()
        }
        let rest = buf.subarray(end + 4)
        if (header('transfer-encoding')?.toLowerCase() === 'chunked') {
          const done = chunkedEnd(rest)
          if (done < 0) return
          rest = rest.subarray(done)
        } else {
          const length = Number(header('content-length') ?? 0)
          if (rest.length < length) return
          rest = rest.subarray(length)
        }
        buf = rest
        if (head.startsWith('GET ')) {
          // `GET …?lag`: also the delivery lags since the last such request, and starts afresh.
          const withLag = /^GET \S*\?lag[ &]/.test(head)
          const json = Buffer.from(JSON.stringify({ delivered: seen.size, posts, firstSeal, ...(withLag ? { lagMs: lagSummary(lags.splice(0)) } : {}) }))
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n`)
          socket.write(json)
          continue
        }
        posts++
        const key = `${header('egif-sender') ?? ''}/${header('egif-message-id') ?? ''}`
        const seal = header('egif-seal')
        if (!seen.has(key) && seal !== undefined) {
          // Delivery lag: from the hub's acceptedAt (in the seal, ms) to the whole request here.
          const at = /"acceptedAt":"([^"]+)"/.exec(Buffer.from(seal.slice(seal.indexOf('.') + 1, seal.lastIndexOf('.')), 'base64url').toString())
          if (at !== null) lags.push(Date.now() - Date.parse(at[1]))
        }
        seen.add(key)
        firstSeal ??= seal
        socket.write(OK)
      }
    })
    socket.on('error', () => { socket.destroy() })
  })
  server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number }
    listening(`http://127.0.0.1:${a.port}/inbound`)
  })
  process.on('SIGTERM', () => { server.close(); process.exit(0) })
} else if (kind === 'bare') {
  const app = rawFastify()
  app.post('/v1/messages', async (req, reply) => reply.code(202).send({ status: 'accepted', size: (req.body as Buffer).length }))
  listening(`${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/messages`)
  process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
} else if (kind === 'xmlcrypto') {
  await xmlCryptoPipeline()
} else {
  // As `egif start` runs a hub (an option given with --hub-node-options wins).
  applyHubV8Options()
  const dataDir = spec.dataDir ?? mkdtempSync(join(tmpdir(), 'egif-bench-'))
  const cfg = resolveConfig({
    hub: { id: 'BENCH-HUB', dataDir, logLevel: 'warn', ...(spec.checkThreads !== undefined ? { checkThreads: spec.checkThreads } : {}) },
    ...(spec.redisUrl !== undefined ? { cluster: { prefix: spec.prefix ?? 'egif-bench', ...(spec.clusterQueue !== undefined ? { queue: spec.clusterQueue } : {}) } } : {}),
    documentTypes: { builtin: true, xsd: spec.scenario === 'b' ? [etaxTaxInvoiceType()] : [] },
    participants: [
      { id: SENDER, name: { en: 'Bench sender' }, apiKeys: [hashApiKey(SENDER_KEY)], signingCertificates: [spec.certFile!] },
      { id: RECEIVER, name: { en: 'Bench sink' }, apiKeys: [hashApiKey('bench-sink-key')], delivery: { mode: 'push', adapter: 'http-push', config: { url: spec.sinkUrl! } } }
    ],
    routes: [{ from: SENDER, to: RECEIVER, types: ['*'] }]
  }, join(ROOT, 'bench', 'bench-hub.yaml'), spec.redisUrl !== undefined ? { REDIS_URL: spec.redisUrl } : {})
  const hub = await Hub.create(cfg, { log: pino({ level: 'warn' }) })
  const threads = hub.checks instanceof ThreadChecks ? hub.checks : undefined
  const refreshTids = (): void => { checkTids = new Set((threads?.threadInfo() ?? []).flatMap((t) => t.tid !== undefined ? [t.tid] : [])) }
  refreshTids()
  setInterval(refreshTids, 1000).unref()
  givenBack = () => hub.worker.load(RECEIVER).givenBack
  const app = buildApp(hub)
  listening(`${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/messages`)
  process.on('SIGTERM', () => {
    void hub.close().then(async () => { await app.close() }).then(() => {
      if (spec.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true })
      process.exit(0)
    })
  })
}

/**
 * The pipeline most Node projects would write with xml-crypto, as its README shows: xmldom parses
 * the text, xpath finds the Signature, `SignedXml.checkSignature` verifies it with the registered
 * certificate; the schema is checked with the same libxml2 XSD validator as the hub; each accepted
 * message is appended to a file and fdatasync'ed before 202; the receipt is an RS256 JWS made with
 * the key PEM; delivery is a fetch to the sink after the answer, a few at a time.
 */
async function xmlCryptoPipeline (): Promise<void> {
  const DS = 'http://www.w3.org/2000/09/xmldsig#'
  const certPem = readFileSync(spec.certFile!)
  const keyPem = readFileSync(spec.certFile!.replace(/\.cert\.pem$/, '.key.pem'))
  const xsd = XsdSchema.compile(spec.scenario === 'b'
    ? join(CORPUS, 'schemas/ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd')
    : join(ROOT, 'schemas/gov-letter/gov-letter-1.0.xsd'))
  const dataDir = mkdtempSync(join(tmpdir(), 'egif-bench-xmlcrypto-'))
  const fh = await open(join(dataDir, 'messages.log'), 'a')
  const outbox: Array<{ id: string, body: Buffer }> = []
  let delivering = 0
  const pump = (): void => {
    while (delivering < 16 && outbox.length > 0) {
      const m = outbox.shift()!
      delivering++
      fetch(spec.sinkUrl!, { method: 'POST', body: m.body as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/xml', 'egif-sender': SENDER, 'egif-message-id': m.id } })
        .then(async (r) => { await r.arrayBuffer() }, () => { outbox.push(m) })
        .finally(() => { delivering--; pump() })
    }
  }
  const app = rawFastify()
  app.post('/v1/messages', async (req, reply) => {
    const body = req.body as Buffer
    const id = String(req.headers['egif-message-id'])
    const xml = body.toString('utf8')
    const dom = new DOMParser().parseFromString(xml, 'text/xml')
    const node = xpath.select1(`//*[local-name(.)='Signature' and namespace-uri(.)='${DS}']`, dom as unknown as Node)
    if (node === undefined || node === null) return await reply.code(422).send({ code: 'no signature' })
    const sig = new SignedXml({ publicCert: certPem })
    sig.loadSignature(node as Node)
    if (!sig.checkSignature(xml)) return await reply.code(422).send({ code: 'bad signature' })
    const doc = XmlDocument.fromBuffer(body)
    try {
      if (xsd.validate(doc).length > 0) return await reply.code(422).send({ code: 'invalid' })
    } finally { doc.dispose() }
    await fh.appendFile(JSON.stringify({ id, at: new Date().toISOString(), body: body.toString('base64') }) + '\n')
    await fh.datasync()
    const payload = Buffer.from(JSON.stringify({ messageId: id, status: 'accepted' })).toString('base64url')
    const head = Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url')
    const signature = sign('sha256', Buffer.from(`${head}.${payload}`), keyPem).toString('base64url')
    outbox.push({ id, body })
    pump()
    return await reply.code(202).send({ receipt: `${head}.${payload}.${signature}` })
  })
  listening(`${await app.listen({ port: 0, host: '127.0.0.1' })}/v1/messages`)
  process.on('SIGTERM', () => {
    void app.close().then(async () => { await fh.close() }).then(() => { rmSync(dataDir, { recursive: true, force: true }); process.exit(0) })
  })
}
