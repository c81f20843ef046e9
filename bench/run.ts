import { cpus, totalmem } from 'node:os'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { CORPUS, fixture, RECEIVER, ROOT, SENDER, SENDER_KEY, type Fixture } from './lib/fixtures.js'
import { preparedRequests, runLoad, type LoadResult, type RequestBytes } from './lib/load.js'
import { cols, loopLateness, n0 } from './lib/figures.js'
import { calibrate, cpuTicks, describeCalibration, stealShare, type Calibration } from './lib/machine.js'
import { benchOptionsOrExit, HELP } from './lib/options.js'
import { keepRunningWhenOutputCloses } from '../src/cli/output.js'
import { describePerf, perfMissing, perfScript, summarizePerfScript, type PerfSummary } from './lib/perf.js'
import { buildServers, procStats, redisServerMissing, startPerfRecording, startProcess, startRedis, type BenchProcess, type ByThread, type GcPauses, type ProcStats } from './lib/servers.js'

/**
 * `npm run bench [-- --quick] [-- --only=a,c] [-- --cpu-prof]`: the hub end to end — intake → parse →
 * validate → verify the sender's signature → authorize → trail → signed receipt → store (fsync) →
 * delivery by http-push to a sink process → delivered — beside two baselines in the same run:
 *   (a) the 5 KB gov-letter, XML-DSig RSA-2048 by the sender        embedded, journal with fsync
 *   (b) an ETDA e-Tax TaxInvoice, XAdES-BES by the bench's key        embedded
 *   (c) a 2 KB JSON document with a detached JWS (ES256)             embedded
 *   (d) scenario (a) in cluster mode: 2 hub processes on a Redis the bench starts (AOF, fsync always)
 *   bare       a fastify route that takes the same bytes and answers 202 (the HTTP ceiling)
 *   xml-crypto a straightforward pipeline on xml-crypto's documented usage
 * The load generator (this process) and the sink run on the same machine and are counted in it.
 * Before each row it times a few fixed operations (bench/lib/machine.ts), so that a slower run
 * can be told from a slower machine. Prints progress to stderr, the table to stdout, and writes
 * JSON to bench/results/. `npm run bench:compare` (bench/compare.ts) runs another revision's bench
 * and this one in turn.
 */
const options = benchOptionsOrExit(process.argv.slice(2), HELP)
const { quick, cpuProf, perf, only } = options
const T = quick
  ? { warm: 500, saturation: 2500, fixed: 1500, baseline: 1500 }
  : { warm: 3000, saturation: 6000, fixed: 3000, baseline: 3000 }
/**
 * Full runs warm up until each hub process has taken this many messages (and at least `T.warm`,
 * at most `WARM_MAX_MS`): until V8 has compiled what a message runs through (docs/performance.md).
 * The cap keeps a full run within its 3 minutes on a slow host: there (d)'s two processes took
 * ~500 messages a second while warming up, so a cap of 20 s was reached and the run came to
 * ~175 s before the compile and, on a first run, the signing of the documents.
 */
const WARM_PER_PROCESS = 5000
const WARM_MAX_MS = 16_000
/**
 * Connections of the closed loop at saturation (`--connections=N`). Enough that the system under
 * test limits the rate, not the connections: a closed loop of C connections cannot exceed
 * C / latency, and the hub's latency under full load is tens of milliseconds (disk writes, group
 * commit), so 32 connections capped it well below what its CPU allows.
 */
const CONCURRENCY = options.connections
/**
 * Connections of the xml-crypto baselines' closed loop. Each message takes that pipeline's one
 * event loop 5–15 ms of CPU, so 32 connections keep it saturated as 256 do (the same rate within
 * the noise, 195 and 87/s against 215 and 79/s); with 256, each request waited 1.5–4 s in its
 * queue, and the warm-up and the measured seconds each ran that much longer, ~10 s of the 3 minutes.
 */
const XML_CRYPTO_CONNECTIONS = Math.min(CONCURRENCY, 32)
/** Scenario (d): hub processes on the one Redis (`--cluster-processes=N`, default 2). */
const CLUSTER_PROCESSES = options.clusterProcesses
/** Scenario (d): the cluster's delivery queue (`--cluster-queue=bullmq|stream`, default the hub's default). */
const CLUSTER_QUEUE = options.clusterQueue
/** Document-check threads per hub process (`--check-threads=N`; default the hub's own default). */
const CHECK_THREADS = options.checkThreads
/** Node options for the hub processes (`--hub-node-options="--flag …"`), e.g. V8 settings to compare. */
const HUB_NODE_OPTIONS = options.hubNodeOptions
const runTag = Date.now().toString(36)
const log = (s: string): void => { process.stderr.write(s + '\n') }
keepRunningWhenOutputCloses()

type Id = 'a' | 'b' | 'c' | 'd'
if (!existsSync(CORPUS)) {
  // Scenario (b) and the hub's schema set read the ETDA e-Tax corpus beside the repository.
  log(`the ETDA e-Tax corpus is not at ${CORPUS}: the bench reads it from ../shared/corpus/ beside the repository (see docs/performance.md)`)
  process.exit(2)
}
if (only === undefined || only.includes('d')) {
  // Scenario (d) starts a Redis of its own (AOF, on a free port), never the shared one.
  const missing = redisServerMissing()
  if (missing !== undefined) {
    log(`scenario (d) runs a redis-server of its own, and none can be started here (${missing}): install Redis (Debian: apt-get install redis-server), or leave (d) out with --only=a,b,c,bare-a,bare-b,bare-c,xml-crypto-a,xml-crypto-b`)
    process.exit(2)
  }
}
if (perf) {
  const missing = perfMissing()
  if (missing !== undefined) {
    log(`--perf samples the whole machine with Linux perf, which cannot record here (${missing}): install it (Debian: apt-get install linux-perf) and run as a user allowed to sample every CPU (kernel.perf_event_paranoid), or leave --perf out`)
    process.exit(2)
  }
}
log('compiling the processes under test (tsc -b: what changed since the last run) into bench/.cache/build/…')
// The documents are signed (first run) or read (later runs) while tsc compiles in its own process.
const built = buildServers()
built.catch(() => {})
const fixtures: Record<'a' | 'b' | 'c', Fixture> = {
  a: fixture('a', 4000, log),
  b: fixture('b', 2000, log),
  c: fixture('c', 4000, log)
}
await built
const bodyOf = (id: Id): Fixture => fixtures[id === 'd' ? 'a' : id]

/** The requests of a scenario: its documents in turn, each request with a message id of its own. */
function requests (f: Fixture, tag: string): RequestBytes {
  return preparedRequests(f.bodies.map((body, k) => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${SENDER_KEY}`,
      'content-type': f.contentType,
      'egif-sender': SENDER,
      'egif-receiver': RECEIVER
    }
    if (f.documentType !== undefined) headers['egif-document-type'] = f.documentType
    if (f.signatures !== undefined) headers['egif-signature'] = f.signatures[k]
    return { headers, body }
  }), 'egif-message-id', (i) => `${tag}-${i}`)
}

async function sinkCount (sink: BenchProcess): Promise<{ delivered: number, posts: number, firstSeal?: string }> {
  const r = await fetch(sink.url)
  return await r.json() as { delivered: number, posts: number, firstSeal?: string }
}

/** Delivery lags at the sink (acceptance to arrival, ms) since the last call; the sink starts afresh. */
async function sinkLags (sink: BenchProcess): Promise<DeliveryLag> {
  const r = await fetch(`${sink.url}?lag`)
  return (await r.json() as { lagMs: DeliveryLag }).lagMs
}

/** Waits until the sink holds `n` messages; the time the last one arrived (ms, performance clock). */
async function deliveredBy (sink: BenchProcess, n: number, timeoutMs = 120_000): Promise<number> {
  const until = performance.now() + timeoutMs
  let last = -1
  for (;;) {
    const { delivered } = await sinkCount(sink)
    if (delivered >= n) return performance.now()
    if (performance.now() > until) throw new Error(`only ${delivered} of ${n} messages delivered after ${timeoutMs / 1000}s`)
    if (delivered !== last) last = delivered
    await new Promise((r) => setTimeout(r, 20))
  }
}

interface Fixed {
  offered: number
  share: number
  accepted: number
  latencyMs: LoadResult['latencyMs']
  statuses: Record<number, number>
  /**
   * Per hub process, the milliseconds in each second of the run that its event loop (`main`) and
   * its check threads together (`checks`) were ready to run but waited for a CPU (Linux only).
   */
  cpuWaitMsPerSec?: { main: number, checks: number }
  /**
   * CPU ms per message answered in this run, its deliveries included: the hub processes (and by
   * thread), and all processes (load generator, sink, Redis). At a light load a message costs more
   * than at saturation: fewer messages share each wake-up, system call and batch.
   */
  cpuMsPerMsg?: number
  cpuMsPerMsgAll?: number
  cpuMsPerMsgByThread?: ByThread
  /**
   * How late the hub's event loop ran a timer during the run, p99 and longest, in the hub process
   * where it was latest (a stall of the loop holds every request it has); and its garbage
   * collector's pauses, summed over the hub processes, with the longest.
   */
  loopLateMs?: { p99: number, max: number }
  gc?: GcPauses
  /** The same lateness of the load generator's own event loop (this process): a request it sends late or reads late counts as latency too. */
  generatorLateMs?: { p99: number, max: number }
  /** From the hub's acceptance (the seal's acceptedAt) to the delivery's arrival at the sink, ms. */
  deliveryLagMs?: DeliveryLag
}
interface DeliveryLag { n: number, p50: number, p99: number, max: number }
interface Row {
  id: string
  title: string
  kind: 'hub' | 'bare' | 'xml-crypto'
  processes: number
  /** Messages delivered over the whole scenario (warm-up included). */
  messages?: number
  acceptedPerSec: number
  deliveredPerSec: number
  saturationLatencyMs: LoadResult['latencyMs']
  statuses: Record<number, number>
  fixed: Fixed[]
  /** Peak RSS of the system under test: the largest hub process, and all its processes together. */
  peakRssMb: number
  peakRssAllMb: number
  /** Memory of the (first) hub process at the end: where the RSS is. */
  memoryMb?: Record<string, number>
  /** Share of the hub processes' CPU spent in the kernel (whole scenario). */
  systemCpuShare?: number
  redisPeakRssMb?: number
  /** Cluster mode: Redis commands and AOF bytes per delivered message, and Redis CPU ms per message. */
  redisPerMsg?: { commands: number, aofBytes: number, cpuMs: number, byCommand: Record<string, number> }
  /** CPU ms per delivered message: the system under test; and the whole machine (load generator, sink, Redis included). */
  cpuMsPerMsg: number
  cpuMsPerMsgAll: number
  /** CPU ms per message of the hub processes by thread: event loop, document-check threads, the rest (libuv pool, V8). */
  cpuMsPerMsgByThread?: ByThread
  /** `--perf`: the whole machine over the saturation run, by thread and by kind of work (bench/lib/perf.ts), and the recording. */
  perf?: PerfSummary & { file: string }
  signature?: string
  /** The machine's calibration just before this row ran (bench/lib/machine.ts). */
  calibration?: Calibration
}
const rows: Row[] = []
/** This process's event loop (the load generator's): how late it runs during each fixed load. */
const generatorLoop = loopLateness()

const cpuSelf = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 }
interface SutCpu { total: number, threads: ByThread, waits?: ByThread, loopLateMs?: { p99: number, max: number }, gc?: GcPauses }
/**
 * CPU of the processes under test so far: in all, and by thread kind (summed over processes); and
 * by thread kind, the time spent waiting for a CPU, where every process could tell.
 */
async function cpuOf (ps: BenchProcess[]): Promise<SutCpu> {
  const all = await Promise.all(ps.map(async (p) => await p.stats()))
  const threads: ByThread = { main: 0, checks: 0, other: 0 }
  const waits: ByThread = { main: 0, checks: 0, other: 0 }
  for (const s of all) {
    for (const k of ['main', 'checks', 'other'] as const) {
      threads[k] += s.threadsCpuMs?.[k] ?? 0
      waits[k] += s.threadsWaitMs?.[k] ?? 0
    }
  }
  const total = all.reduce((a, s) => a + s.cpuMs, 0)
  const late = all.every((s) => s.loopLateMs !== undefined) ? { p99: Math.max(...all.map((s) => s.loopLateMs!.p99)), max: Math.max(...all.map((s) => s.loopLateMs!.max)) } : undefined
  const gc = all.every((s) => s.gc !== undefined) ? { pauses: sum(all.map((s) => s.gc!.pauses)), totalMs: sum(all.map((s) => s.gc!.totalMs)), maxMs: Math.max(...all.map((s) => s.gc!.maxMs)) } : undefined
  return { total, threads, ...(all.every((s) => s.threadsWaitMs !== undefined) ? { waits } : {}), ...(late !== undefined ? { loopLateMs: late } : {}), ...(gc !== undefined ? { gc } : {}) }
}
const sum = (xs: number[]): number => xs.reduce((a, x) => a + x, 0)

/** What each kind of thread added between two readings, divided by `by`. */
function byThreadSince (a: ByThread, b: ByThread, by = 1): ByThread {
  return { main: (b.main - a.main) / by, checks: (b.checks - a.checks) / by, other: (b.other - a.other) / by }
}

/** Waiting for a CPU between two readings, in ms per second of `seconds` and per process. */
function cpuWait ({ waits: a }: SutCpu, { waits: b }: SutCpu, seconds: number, processes: number): Fixed['cpuWaitMsPerSec'] {
  if (a === undefined || b === undefined) return undefined
  const { main, checks } = byThreadSince(a, b, seconds * processes)
  return { main, checks }
}

function progress (label: string): (done: number, s: number) => void {
  return (done, s) => { process.stderr.write(`\r  ${label}: ${s.toFixed(0)} s, ${done.toLocaleString('en')} answered   `) }
}

/** CPU ms so far of the processes beside those under test: this load generator, the sink, and `extra` (Redis). */
async function othersCpu (sink: BenchProcess, extra: () => number = () => 0): Promise<number> {
  return cpuSelf() + (await sink.stats()).cpuMs + extra()
}

/** Saturation (closed loop), then waits for every accepted message at the sink. */
async function saturate (label: string, urls: string[], make: ReturnType<typeof requests>, first: number, ms: number, sink: BenchProcess, already: number, sut: BenchProcess[], extra: () => number, perfFile?: string): Promise<{ res: LoadResult, deliveredPerSec: number, cpuSut: number, cpuAll: number, threads: ByThread }> {
  const recording = perfFile !== undefined ? startPerfRecording(perfFile) : undefined
  const cpu0 = await cpuOf(sut)
  const others0 = await othersCpu(sink, extra)
  const t0 = performance.now()
  let res: LoadResult
  try {
    res = await runLoad({ urls, make, first, durationMs: ms, concurrency: CONCURRENCY, onTick: progress(label) })
  } finally {
    // A recording that went wrong costs the row its profile, not its figures.
    await recording?.stop().catch((err: unknown) => { log(`\n  perf record: ${(err as Error).message}`) })
  }
  process.stderr.write('\n')
  const t1 = await deliveredBy(sink, already + res.ok)
  const cpu1 = await cpuOf(sut)
  const cpuSut = cpu1.total - cpu0.total
  const cpuAll = cpuSut + await othersCpu(sink, extra) - others0
  const threads = byThreadSince(cpu0.threads, cpu1.threads)
  return { res, deliveredPerSec: res.ok / ((t1 - t0) / 1000), cpuSut, cpuAll, threads }
}

async function scenario (id: Id): Promise<void> {
  const f = bodyOf(id)
  const title = id === 'd' ? `${f.title}, cluster: ${CLUSTER_PROCESSES} process${CLUSTER_PROCESSES === 1 ? '' : 'es'} on Redis${CLUSTER_QUEUE !== undefined ? `, ${CLUSTER_QUEUE} queue` : ''}` : f.title
  log(`(${id}) ${title}`)
  const sink = await startProcess('sink')
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined
  try {
    redis = id === 'd' ? await startRedis() : undefined
  } catch (err) {
    await sink.stop()
    throw err
  }
  const profArgs = (n: number): string[] => [...HUB_NODE_OPTIONS, ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${ROOT}bench/results/profiles/${id}-${n}-${runTag}`] : []), ...(perf ? ['--perf-basic-prof'] : [])]
  const perfFile = perf ? `${ROOT}bench/results/profiles/${id}-${runTag}.perf.data` : undefined
  if (perfFile !== undefined) mkdirSync(`${ROOT}bench/results/profiles`, { recursive: true })
  const spec = { scenario: id, certFile: f.certFile, sinkUrl: sink.url, ...(CHECK_THREADS !== undefined ? { checkThreads: CHECK_THREADS } : {}), ...(redis !== undefined ? { redisUrl: redis.url, prefix: `egif-bench-${runTag}`, ...(CLUSTER_QUEUE !== undefined ? { clusterQueue: CLUSTER_QUEUE } : {}) } : {}) }
  const hubs: BenchProcess[] = []
  /** The hub processes' ids, for the files `--perf` makes them leave (removePerfFiles). */
  const hubPids: number[] = []
  try {
    for (let n = 0; n < (id === 'd' ? CLUSTER_PROCESSES : 1); n++) hubs.push(await startProcess('hub', spec, profArgs(n)))
    hubPids.push(...hubs.map((h) => h.pid))
    const urls = hubs.map((h) => h.url)
    const make = requests(f, `${id}-${runTag}`)
    const redisCpu = (): number => redis !== undefined ? procStats(redis.proc.pid!).cpuMs : 0
    let next = 0
    let delivered = 0
    // Warm-up: JIT (the hub is compiled by V8 as it runs: the first thousands of messages cost far
    // more CPU than later ones), connections, the first segment files. At least T.warm, and (full
    // runs) until each hub process has taken WARM_PER_PROCESS messages: a cluster process takes
    // fewer a second than an embedded hub, runs more code (ioredis, BullMQ), and was still
    // compiling ~100 functions a second after 3 s.
    const warmUntil = performance.now() + WARM_MAX_MS
    for (let ms = T.warm; ; ms = 1000) {
      const warm = await runLoad({ urls, make, first: next, durationMs: ms, concurrency: CONCURRENCY })
      next = warm.next
      delivered += warm.ok
      if (quick || delivered >= WARM_PER_PROCESS * hubs.length || performance.now() >= warmUntil) break
    }
    log(`  warm-up: ${delivered.toLocaleString('en')} messages`)
    await deliveredBy(sink, delivered)
    const seal = (await sinkCount(sink)).firstSeal
    const signature = seal !== undefined ? (JSON.parse(Buffer.from(seal.split('.')[1], 'base64url').toString()) as { senderSignature?: string }).senderSignature : undefined
    if (signature !== 'verified') throw new Error(`(${id}): the hub did not verify the sender's signature (seal says ${String(signature)})`)
    const sat = await saturate(`(${id}) saturation`, urls, make, next, T.saturation, sink, delivered, hubs, redisCpu, perfFile)
    next = sat.res.next
    delivered += sat.res.ok
    log(`  accepted ${Math.round(sat.res.perSecond)}/s, delivered ${Math.round(sat.deliveredPerSec)}/s, statuses ${JSON.stringify(sat.res.statuses)}${sat.res.errors > 0 ? `, ${sat.res.errors} errors` : ''}`)
    const givenBack = (await Promise.all(hubs.map(async (h) => (await h.stats()).givenBack ?? 0))).reduce((a, b) => a + b, 0)
    if (givenBack > 0) log(`  deliveries given back to the queue so far (the recipient's slots were full): ${givenBack.toLocaleString('en')}, ${(givenBack / delivered).toFixed(2)} a message`)
    log(`  CPU per message: hub ${(sat.cpuSut / sat.res.ok).toFixed(3)} ms (event loop ${(sat.threads.main / sat.res.ok).toFixed(3)}, check threads ${(sat.threads.checks / sat.res.ok).toFixed(3)}, thread pool and V8 ${(sat.threads.other / sat.res.ok).toFixed(3)}), all processes ${(sat.cpuAll / sat.res.ok).toFixed(3)} ms`)
    const fixed: Fixed[] = []
    const loads = [0.25, 0.5, 0.9].map((share) => ({ share, offered: Math.max(1, Math.round(sat.res.perSecond * share)) }))
    if (id === 'a') loads.push({ share: 0, offered: 1000 })
    for (const l of loads) {
      await sinkLags(sink)
      const before = await cpuOf(hubs)
      const others0 = await othersCpu(sink, redisCpu)
      generatorLoop.late()
      const r = await runLoad({ urls, make, first: next, durationMs: T.fixed, concurrency: 256, rate: l.offered, onTick: progress(`(${id}) ${l.offered}/s offered`) })
      const { p99: genP99, max: genMax } = generatorLoop.late()
      const during = await cpuOf(hubs)
      const waited = cpuWait(before, during, r.seconds, hubs.length)
      const stalls = { ...(during.loopLateMs !== undefined ? { loopLateMs: during.loopLateMs } : {}), ...(during.gc !== undefined ? { gc: during.gc } : {}), generatorLateMs: { p99: genP99, max: genMax } }
      process.stderr.write('\n')
      next = r.next
      delivered += r.ok
      await deliveredBy(sink, delivered)
      const after = await cpuOf(hubs)
      const others = await othersCpu(sink, redisCpu) - others0
      const lag = await sinkLags(sink)
      const per = (ms: number): number => ms / Math.max(1, r.ok)
      const cpu = { cpuMsPerMsg: per(after.total - before.total), cpuMsPerMsgAll: per(after.total - before.total + others), cpuMsPerMsgByThread: byThreadSince(before.threads, after.threads, Math.max(1, r.ok)) }
      fixed.push({ offered: l.offered, share: l.share, accepted: Math.round(r.perSecond), latencyMs: r.latencyMs, statuses: r.statuses, ...(waited !== undefined ? { cpuWaitMsPerSec: waited } : {}), ...cpu, ...stalls, deliveryLagMs: lag })
      log(`  ${l.offered}/s offered: p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, p99.9 ${r.latencyMs.p999.toFixed(1)} ms; delivered ${lag.p50.toFixed(0)} ms after acceptance at the median, ${lag.p99.toFixed(0)} at p99${waited !== undefined ? `; waiting for a CPU, ms a second: event loop ${waited.main.toFixed(0)}, check threads ${waited.checks.toFixed(0)}` : ''}`)
      log(`  CPU per message: hub ${cpu.cpuMsPerMsg.toFixed(3)} ms (event loop ${cpu.cpuMsPerMsgByThread.main.toFixed(3)}, check threads ${cpu.cpuMsPerMsgByThread.checks.toFixed(3)}, thread pool and V8 ${cpu.cpuMsPerMsgByThread.other.toFixed(3)}), all processes ${cpu.cpuMsPerMsgAll.toFixed(3)} ms`)
      if (stalls.loopLateMs !== undefined && stalls.gc !== undefined) log(`  hub's event loop late by ${stalls.loopLateMs.p99.toFixed(1)} ms at p99, ${stalls.loopLateMs.max.toFixed(1)} at most; garbage collector pauses ${stalls.gc.pauses}, ${stalls.gc.totalMs.toFixed(0)} ms in all, longest ${stalls.gc.maxMs.toFixed(1)} ms; load generator's loop late by ${genP99.toFixed(1)} ms at p99, ${genMax.toFixed(1)} at most`)
    }
    const stats = await Promise.all(hubs.map(async (h) => await h.stop()))
    hubs.length = 0
    let perfSummary: ReturnType<typeof wholeMachine> | undefined
    try {
      perfSummary = perfFile !== undefined ? wholeMachine(perfFile, hubPids, stats, sink.pid, redis?.proc.pid) : undefined
    } catch (err) {
      // The row's figures stand without the profile.
      log(`  the perf recording could not be read: ${(err as Error).message}`)
    }
    if (perfSummary !== undefined) for (const line of describePerf(perfSummary)) log(`  ${line}`)
    const rs = redis !== undefined ? procStats(redis.proc.pid!) : undefined
    const redisPerMsg = redis !== undefined ? await redisCosts(redis.url, delivered) : undefined
    rows.push({
      id,
      title,
      kind: 'hub',
      processes: stats.length,
      messages: delivered,
      acceptedPerSec: sat.res.perSecond,
      deliveredPerSec: sat.deliveredPerSec,
      saturationLatencyMs: sat.res.latencyMs,
      statuses: sat.res.statuses,
      fixed,
      peakRssMb: Math.max(...stats.map((s) => s.peakRssMb)),
      peakRssAllMb: stats.reduce((a, s) => a + s.peakRssMb, 0),
      ...(stats[0].memoryMb !== undefined ? { memoryMb: stats[0].memoryMb } : {}),
      systemCpuShare: stats.reduce((a, s) => a + (s.systemCpuMs ?? 0), 0) / stats.reduce((a, s) => a + s.cpuMs, 0),
      ...(rs !== undefined ? { redisPeakRssMb: rs.peakRssMb } : {}),
      ...(redisPerMsg !== undefined ? { redisPerMsg } : {}),
      cpuMsPerMsg: sat.cpuSut / sat.res.ok,
      cpuMsPerMsgByThread: { main: sat.threads.main / sat.res.ok, checks: sat.threads.checks / sat.res.ok, other: sat.threads.other / sat.res.ok },
      cpuMsPerMsgAll: sat.cpuAll / sat.res.ok,
      ...(perfSummary !== undefined ? { perf: perfSummary } : {}),
      signature
    })
  } finally {
    for (const h of hubs) await h.stop().catch(() => {})
    await sink.stop()
    await redis?.stop()
    if (perf) removePerfFiles(hubPids)
  }
}

/**
 * What `--perf-basic-prof` leaves of the hub processes: their perf maps in /tmp, and V8's log of
 * each isolate (`isolate-<address>-<pid>-v8.log`) in the working directory.
 */
function removePerfFiles (pids: number[]): void {
  const logs = readdirSync(process.cwd())
  for (const pid of pids) {
    rmSync(`/tmp/perf-${pid}.map`, { force: true })
    for (const f of logs) if (f.startsWith('isolate-') && f.endsWith(`-${pid}-v8.log`)) rmSync(f, { force: true })
  }
}

/**
 * `--perf`: a row's recording summed by thread (the hub's event loop, its check threads, its other
 * threads, the sink, this load generator, Redis and its forks) and kind of work. Read after the
 * hubs stopped and before their perf maps (`--perf-basic-prof`, their JavaScript's names) are removed.
 */
function wholeMachine (file: string, hubPids: number[], stats: ProcStats[], sinkPid: number, redisPid: number | undefined): PerfSummary & { file: string } {
  const checks = new Set(stats.flatMap((s) => s.checkTids ?? []))
  const hubs = new Set(hubPids)
  const summary = summarizePerfScript(perfScript(file), (pid, tid, command) => {
    if (hubs.has(pid)) return tid === pid ? 'hub event loop' : checks.has(tid) ? 'hub check threads' : 'hub, other threads'
    if (pid === sinkPid) return 'sink'
    if (pid === process.pid) return 'load generator'
    if (pid === redisPid) return 'Redis'
    // Redis forks to rewrite its append-only file (at 64 MB, then each time it has doubled).
    if (redisPid !== undefined && command === 'redis-server') return 'Redis, its forks (AOF rewrites)'
    return 'other processes'
  })
  return { ...summary, file: file.slice(ROOT.length) }
}

/** What Redis did per delivered message over the whole scenario (start-up and warm-up included). */
async function redisCosts (url: string, messages: number): Promise<Row['redisPerMsg']> {
  const { Redis } = await import('ioredis')
  const r = new Redis(url)
  try {
    const info = await r.info() + '\n' + await r.info('commandstats')
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0)
    const byCommand: Record<string, number> = {}
    for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) byCommand[m[1]] = Math.round(Number(m[2]) / messages * 100) / 100
    const cpu = Number(/^used_cpu_sys:([\d.]+)/m.exec(info)?.[1] ?? 0) + Number(/^used_cpu_user:([\d.]+)/m.exec(info)?.[1] ?? 0)
    return { commands: field('total_commands_processed') / messages, aofBytes: field('aof_current_size') / messages, cpuMs: cpu * 1000 / messages, byCommand }
  } finally {
    r.disconnect()
  }
}

async function baseline (kind: 'bare' | 'xml-crypto', of: 'a' | 'b' | 'c'): Promise<void> {
  const f = fixtures[of]
  const id = `${kind}(${of})`
  log(`${id} ${kind === 'bare' ? 'bare fastify route, 202' : 'xml-crypto pipeline'} with the bytes of (${of})`)
  const sink = await startProcess('sink')
  const server = await startProcess(kind === 'bare' ? 'bare' : 'xmlcrypto', { scenario: of, certFile: f.certFile, sinkUrl: sink.url })
  try {
    const make = requests(f, `${id}-${runTag}`)
    const concurrency = kind === 'xml-crypto' ? XML_CRYPTO_CONNECTIONS : CONCURRENCY
    const warm = await runLoad({ urls: [server.url], make, durationMs: T.warm / 2, concurrency })
    let delivered = 0
    if (kind === 'xml-crypto') { delivered = warm.ok; await deliveredBy(sink, delivered) }
    const cpu0 = (await server.stats()).cpuMs
    const others0 = await othersCpu(sink)
    const t0 = performance.now()
    const res = await runLoad({ urls: [server.url], make, first: warm.next, durationMs: T.baseline, concurrency, onTick: progress(id) })
    process.stderr.write('\n')
    const t1 = kind === 'xml-crypto' ? await deliveredBy(sink, delivered + res.ok) : performance.now()
    const st = await server.stop()
    const cpuSut = st.cpuMs - cpu0
    const cpuAll = cpuSut + await othersCpu(sink) - others0
    log(`  ${Math.round(res.perSecond)}/s, statuses ${JSON.stringify(res.statuses)}`)
    rows.push({
      id,
      title: kind === 'bare' ? 'bare fastify route answering 202' : 'xml-crypto documented usage + XSD + fdatasync + RS256 receipt + fetch to the sink',
      kind,
      processes: 1,
      acceptedPerSec: res.perSecond,
      deliveredPerSec: kind === 'bare' ? Number.NaN : res.ok / ((t1 - t0) / 1000),
      saturationLatencyMs: res.latencyMs,
      statuses: res.statuses,
      fixed: [],
      peakRssMb: st.peakRssMb,
      peakRssAllMb: st.peakRssMb,
      cpuMsPerMsg: cpuSut / Math.max(1, res.ok),
      cpuMsPerMsgAll: cpuAll / Math.max(1, res.ok)
    })
  } finally {
    await server.stop().catch(() => {})
    await sink.stop()
  }
}

const started = performance.now()
const ticksAtStart = cpuTicks()
const want = (id: string): boolean => only === undefined || only.includes(id)
/** Scenarios and baselines that could not run to the end, with why: reported after the table, and the exit code is 1. */
const failures: Array<{ row: string, error: string }> = []
/**
 * Runs one scenario or baseline with the machine's calibration just before it on its rows. One that
 * fails (its processes are stopped by its own cleanup) is reported and the others still run, so a
 * late failure does not throw away minutes of figures.
 */
async function calibrated (row: string, run: () => Promise<void>): Promise<void> {
  const calibration = calibrate()
  log(`calibration: ${describeCalibration(calibration)}`)
  const before = rows.length
  try {
    await run()
  } catch (err) {
    const error = ((err as Error).message ?? String(err)).trim()
    log(`${row} failed: ${error}`)
    failures.push({ row, error })
  }
  for (const r of rows.slice(before)) r.calibration = calibration
}
for (const id of ['a', 'b', 'c', 'd'] as const) if (want(id)) await calibrated(`(${id})`, async () => { await scenario(id) })
for (const of of ['a', 'b', 'c'] as const) if (want(`bare-${of}`)) await calibrated(`bare(${of})`, async () => { await baseline('bare', of) })
for (const of of ['a', 'b'] as const) if (want(`xml-crypto-${of}`)) await calibrated(`xml-crypto(${of})`, async () => { await baseline('xml-crypto', of) })

// The report.
const f1 = (n: number): string => n.toFixed(1)
const w = [12, 11, 12, 9, 9, 8, 8, 10, 10, 10, 10]
const out: string[] = []
out.push('', cols(['', 'accepted/s', 'delivered/s', 'vs bare', 'vs x-c', 'RSS MB', 'procs', 'CPU ms/m', 'CPU all', 'sig', 'ES256 µs'], w))
const bareOf = (id: string): Row | undefined => rows.find((r) => r.id === `bare(${id === 'd' ? 'a' : id})`)
const xcOf = (id: string): Row | undefined => rows.find((r) => r.id === `xml-crypto(${id === 'd' ? 'a' : id})`)
for (const r of rows) {
  const bare = r.kind === 'hub' ? bareOf(r.id) : undefined
  const xc = r.kind === 'hub' ? xcOf(r.id) : undefined
  out.push(cols([
    r.kind === 'hub' ? `(${r.id})` : r.id,
    n0(r.acceptedPerSec),
    n0(r.deliveredPerSec),
    bare !== undefined ? `${(r.deliveredPerSec / bare.acceptedPerSec * 100).toFixed(0)}%` : '—',
    xc !== undefined ? `${(r.deliveredPerSec / xc.deliveredPerSec).toFixed(1)}×` : '—',
    String(r.peakRssMb),
    String(r.processes),
    r.cpuMsPerMsg.toFixed(3),
    r.cpuMsPerMsgAll.toFixed(3),
    r.signature ?? '',
    r.calibration !== undefined ? r.calibration.es256SignUs.toFixed(1) : '—'
  ], w))
}
out.push('', 'accept latency at fixed offered loads (open loop, from when each request was due; loop waits: share of the time the event loop was ready to run and waited for a CPU; CPU all: ms per message of every process at that load; delivery p50/p99: ms from acceptance to arrival at the recipient):')
const wf = [12, 10, 7, 11, 9, 9, 9, 9, 11, 9, 15]
out.push(cols(['', 'offered/s', 'share', 'accepted/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'loop waits', 'CPU all', 'delivery p50/99'], wf))
for (const r of rows) {
  for (const x of r.fixed) {
    const waits = x.cpuWaitMsPerSec !== undefined ? `${(x.cpuWaitMsPerSec.main / 10).toFixed(0)}%` : '—'
    out.push(cols([`(${r.id})`, n0(x.offered), x.share > 0 ? `${x.share * 100}%` : 'target', n0(x.accepted), f1(x.latencyMs.p50), f1(x.latencyMs.p99), f1(x.latencyMs.p999), f1(x.latencyMs.max), waits, x.cpuMsPerMsgAll?.toFixed(3) ?? '—', x.deliveryLagMs !== undefined ? `${n0(x.deliveryLagMs.p50)} / ${n0(x.deliveryLagMs.p99)}` : '—'], wf))
  }
}
for (const r of rows) {
  if (r.redisPerMsg === undefined) continue
  const top = Object.entries(r.redisPerMsg.byCommand).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([c, n]) => `${c} ${n}`).join(', ')
  out.push('', `(${r.id}) Redis per delivered message: ${r.redisPerMsg.commands.toFixed(1)} commands (${top}), ${Math.round(r.redisPerMsg.aofBytes).toLocaleString('en')} bytes of AOF, ${r.redisPerMsg.cpuMs.toFixed(3)} ms CPU; peak RSS ${String(r.redisPeakRssMb)} MB`)
}
const get = (id: string): Row | undefined => rows.find((r) => r.id === id)
const targets = [
  { what: '(a) delivered/s ≥ 1,500', value: get('a')?.deliveredPerSec, ok: (v: number) => v >= 1500 },
  { what: '(c) delivered/s ≥ 4,000', value: get('c')?.deliveredPerSec, ok: (v: number) => v >= 4000 },
  { what: '(d) delivered/s ≥ 1,200', value: get('d')?.deliveredPerSec, ok: (v: number) => v >= 1200 },
  { what: '(a) p99 accept ≤ 20 ms at 1,000/s', value: get('a')?.fixed.find((x) => x.share === 0 && x.offered === 1000)?.latencyMs.p99, ok: (v: number) => v <= 20 },
  { what: 'peak RSS ≤ 400 MB (per hub process)', value: rows.filter((r) => r.kind === 'hub').length > 0 ? Math.max(...rows.filter((r) => r.kind === 'hub').map((r) => r.peakRssMb)) : undefined, ok: (v: number) => v <= 400 }
]
out.push('', 'targets:')
for (const t of targets) out.push(`  ${t.what.padEnd(38)} ${t.value === undefined ? 'not measured' : `${t.value.toFixed(1).padStart(8)}  ${t.ok(t.value) ? 'holds' : 'DOES NOT HOLD'}`}`)
if (failures.length > 0) {
  out.push('', 'failed (no figures):')
  for (const x of failures) out.push(`  ${x.row.padEnd(14)} ${x.error}`)
}
const steal = stealShare(ticksAtStart, cpuTicks())
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 1073741824)} GB, Node ${process.version}`
out.push('', `machine: ${machine}; ${quick ? 'quick' : 'full'} run, ${((performance.now() - started) / 1000).toFixed(0)} s`)
const es256 = rows.flatMap((r) => r.calibration !== undefined ? [r.calibration.es256SignUs] : [])
if (es256.length > 0) out.push(`machine speed: one ES256 signature took ${Math.min(...es256).toFixed(1)}–${Math.max(...es256).toFixed(1)} µs of CPU before the rows (column ES256 µs; the same work costs more on a slower or busier host)`)
out.push(`CPU time taken by the hypervisor (steal) during the run: ${(steal * 100).toFixed(1)} % of the machine's`)
process.stdout.write(out.join('\n') + '\n')
mkdirSync(ROOT + 'bench/results', { recursive: true })
const file = ROOT + `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine, quick, timings: T, concurrency: CONCURRENCY, xmlCryptoConcurrency: XML_CRYPTO_CONNECTIONS, stealShare: steal, hubNodeOptions: HUB_NODE_OPTIONS, clusterQueue: CLUSTER_QUEUE ?? 'default', rows, failures, targets: targets.map((t) => ({ what: t.what, value: t.value, holds: t.value !== undefined ? t.ok(t.value) : null })) }, null, 2))
process.stdout.write(`written to ${file}\n`)
if (failures.length > 0) process.exitCode = 1
export type { ProcStats }
