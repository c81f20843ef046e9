import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './free-port.js'
import { onStopSignal } from './signals.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BUILD = join(ROOT, 'bench/.cache/build')
const SERVER = join(BUILD, 'bench/lib/server-main.js')

/**
 * Compiles the hub and the bench's processes with tsc into bench/.cache/build/, so the processes
 * under test run on plain node as `npm run build` output does: tsx's loader keeps ~150 MB of
 * transformed modules and source maps in every process, which is not the hub's memory. Build mode
 * (`tsc -b`) first compares the sources' times with the last build's and compiles only where one
 * is newer: a third of a second when nothing changed, against ~3 s for tsc to load the program.
 * Runs as a child process, so the caller can prepare its documents meanwhile.
 */
export async function buildServers (): Promise<void> {
  const tsc = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(ROOT, 'bench/tsconfig.bench.json')], { stdio: 'inherit' })
  const code = await new Promise<number | null>((resolve, reject) => {
    tsc.once('error', reject)
    tsc.once('exit', resolve)
  })
  if (code !== 0) throw new Error('tsc -b bench/tsconfig.bench.json failed')
  // Folders the compiled modules find next to themselves (import.meta.url).
  for (const [link, target] of [['schemas', 'schemas'], ['adapters/soap-ecms/types', 'adapters/soap-ecms/types']]) {
    const at = join(BUILD, link)
    if (!existsSync(at)) symlinkSync(join(ROOT, target), at)
  }
}

/** A figure of a hub process split by thread: its event loop, its document-check threads, the rest (libuv's pool, V8's threads). */
export interface ByThread { main: number, checks: number, other: number }

/** The garbage collector's pauses of a process's main thread between two readings. */
export interface GcPauses { pauses: number, totalMs: number, maxMs: number }

export interface ProcStats { peakRssMb: number, cpuMs: number, checkTids?: number[], systemCpuMs?: number, threadsCpuMs?: ByThread, threadsWaitMs?: ByThread, loopLateMs?: { p50: number, p99: number, max: number }, gc?: GcPauses, givenBack?: number, memoryMb?: Record<string, number> }

export interface BenchProcess {
  url: string
  pid: number
  /** Current CPU time and peak RSS of the process (it keeps running). */
  stats: () => Promise<ProcStats>
  /** Stats, then SIGTERM, and waits for the exit. */
  stop: () => Promise<ProcStats>
}

/**
 * Every process the bench started and that has not exited, and the directories the bench made for
 * them and has not removed yet (Redis's): if the bench itself is stopped (Ctrl-C, `kill`), the
 * processes are stopped and the directories removed, not left holding ports, CPU and disk that the
 * next run would meet. `last`: stopped after the others (Redis, which a closing hub still talks to).
 */
const running = new Map<ChildProcess, { last: boolean }>()
const madeDirs = new Set<string>()

function track (proc: ChildProcess, opts: { last?: boolean } = {}): void {
  running.set(proc, { last: opts.last === true })
  proc.once('exit', () => { running.delete(proc) })
}

function removeDir (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  madeDirs.delete(dir)
}

/** Stops every process still running, the `last` ones after the others (each SIGTERM, then SIGKILL after `graceMs`), and removes the directories. */
async function stopAll (graceMs: number): Promise<void> {
  for (const last of [false, true]) {
    const these = [...running].filter(([, o]) => o.last === last).map(([p]) => p)
    for (const p of these) p.kill('SIGTERM')
    const deadline = Date.now() + graceMs
    while (these.some((p) => running.has(p)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    for (const p of these) if (running.has(p)) p.kill('SIGKILL')
  }
  for (const dir of [...madeDirs]) removeDir(dir)
}

let stopping = false
onStopSignal((signal, code) => {
  // A second signal (a Ctrl-C that reached the process group, then the one forwarded by
  // bench:compare) must not end the bench half-way through stopping the others.
  if (stopping) return
  stopping = true
  process.stderr.write(`\n${signal}: stopping the bench's processes…\n`)
  void stopAll(10_000).finally(() => process.exit(code))
})
// Ending any other way (an uncaught error): ask them to stop; they clean up after themselves.
process.once('exit', () => { for (const [p] of running) p.kill('SIGTERM') })

/** Starts one process of a scenario (see server-main.ts) so the load generator never shares its event loop. */
export async function startProcess (kind: 'bare' | 'hub' | 'xmlcrypto' | 'sink', spec: Record<string, unknown> = {}, nodeArgs: string[] = []): Promise<BenchProcess> {
  const proc = spawn(process.execPath, [...nodeArgs, SERVER, kind, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] })
  track(proc)
  let buf = ''
  const waiters: Array<(line: string) => boolean> = []
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      const i = waiters.findIndex((w) => w(line))
      if (i >= 0) waiters.splice(i, 1)
      // Anything else the process prints (its warnings, V8's --trace-* output) is shown, named.
      else process.stderr.write(`[${kind} ${proc.pid ?? ''}] ${line}\n`)
    }
  })
  const exited = new Promise<void>((resolve) => proc.once('exit', () => { resolve() }))
  const url = await new Promise<string>((resolve, reject) => {
    waiters.push((line) => { const m = /^listening (\S+)$/.exec(line); if (m !== null) resolve(m[1]); return m !== null })
    void exited.then(() => { reject(new Error(`bench process ${kind} exited before listening`)) })
  })
  const stats = async (): Promise<ProcStats> => await new Promise<ProcStats>((resolve) => {
    waiters.push((line) => { const m = /^stats (\S+)$/.exec(line); if (m !== null) resolve(JSON.parse(m[1]) as ProcStats); return m !== null })
    proc.kill('SIGUSR2')
  })
  let stopping: Promise<ProcStats> | undefined
  return {
    url,
    pid: proc.pid!,
    stats,
    stop: async () => {
      stopping ??= (async () => {
        const s = await stats()
        proc.kill('SIGTERM')
        const t = setTimeout(() => { proc.kill('SIGKILL') }, 15_000)
        await exited
        clearTimeout(t)
        return s
      })()
      return await stopping
    }
  }
}

/**
 * `perf record` of the whole machine (every CPU, call stacks, the CPU clock at 999 Hz) into `file`,
 * from now until `stop`. Stopped with the bench's other processes if the bench is stopped.
 */
export function startPerfRecording (file: string): { stop: () => Promise<void> } {
  const proc = spawn('perf', ['record', '-a', '-g', '-e', 'cpu-clock', '-F', '999', '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  track(proc)
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => { resolve({ code, signal }) }))
  return {
    stop: async () => {
      proc.kill('SIGINT')
      // perf writes its file on SIGINT, then ends by the same signal.
      const { code, signal } = await exited
      if (code !== 0 && signal !== 'SIGINT') throw new Error(`perf record ended with ${signal ?? String(code)}: ${err.trim().split('\n').slice(-3).join(' ')}`)
    }
  }
}

export interface BenchRedis { url: string, proc: ChildProcess, stop: () => Promise<ProcStats> }

/** Why `redis-server` cannot be started here (not on the PATH, not runnable), or undefined when it can. */
export function redisServerMissing (): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (r.error !== undefined) return r.error.message
  if (r.status !== 0) return `redis-server --version exited with ${String(r.status)}: ${(r.stderr ?? '').trim().slice(-300)}`
  return undefined
}

/**
 * A redis-server of the bench's own, on a free port with its own temporary directory, AOF with
 * `appendfsync always` (nothing acknowledged is lost: the hub's strictest documented setting).
 * Stopped by its pid; never the shared instance on 6379.
 */
export async function startRedis (): Promise<BenchRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'egif-bench-redis-'))
  madeDirs.add(dir)
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group: a Ctrl-C of the bench does not reach it, so it outlives the hubs,
    // which still talk to it while they close, and the bench stops it after them.
    detached: true
  })
  track(proc, { last: true })
  await new Promise<void>((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('Ready to accept connections')) resolve()
    })
    proc.once('exit', (code) => { reject(new Error(`redis-server exited with ${String(code)}: ${out.slice(-500)}`)) })
    proc.once('error', (err) => { removeDir(dir); reject(new Error(`cannot start redis-server: ${err.message}`)) })
  })
  proc.stdout!.resume()
  const exited = new Promise<void>((resolve) => proc.once('exit', () => { resolve() }))
  return {
    url: `redis://127.0.0.1:${port}`,
    proc,
    stop: async () => {
      const s = procStats(proc.pid!)
      proc.kill('SIGTERM')
      await exited
      removeDir(dir)
      return s
    }
  }
}

/** CPU time and peak RSS (VmHWM) of any process, from /proc (for redis-server). */
export function procStats (pid: number): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status)
  return { cpuMs: ticks * 10, peakRssMb: hwm !== null ? Math.round(Number(hwm[1]) / 1024) : 0 }
}
