/**
 * A whole-machine profile of a row's saturation run (`--perf`): Linux `perf` samples every thread
 * of every process on the CPU clock (these virtual machines have no hardware counters), the kernel
 * included, and the samples are summed by whose thread they fell in and by the kind of work. V8's
 * own profiler (`--cpu-prof`) sees one thread, and charges native time to the last JavaScript
 * function it saw; this counts what both cores did, load generator, sink and Redis beside the hub.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Kinds of work, each told by a frame anywhere in the sample's stack; the first that matches wins. */
const BY_STACK: ReadonlyArray<readonly [string, RegExp]> = [
  ['public-key crypto', /ecp_nistz256|ECDSA|ecdsa_|EVP_DigestSign|EVP_DigestVerify|EVP_PKEY_sign|EVP_PKEY_verify|RSA_|rsa_ossl|bn_mul_mont|BN_mod_exp/],
  ['garbage collection', /Scavenge|MarkCompact|ConcurrentMarking|IncrementalMarking|MinorGC|Sweeper|ArrayBufferSweeper|Heap::CollectGarbage|MarkingVisitor/],
  ['compiling', /Compiler|compiler::|Maglev|BaselineBatchCompiler|TurboFan/],
  ['digests', /sha256_block|sha512_block|SHA256_|SHA512_|sha1_block/]
]
/** Kinds told by the frame the sample fell in (its leaf). */
const MALLOC = /^(?:malloc|free|cfree|calloc|realloc|_int_malloc|_int_free|_int_realloc|malloc_consolidate|unlink_chunk|__libc_(?:malloc|free|calloc|realloc))\b/
const KERNEL_DSO = '[kernel.kallsyms]'
/** Code V8 compiled (JavaScript; WebAssembly, which `--perf-basic-prof` leaves unnamed) is mapped by `/tmp/perf-<pid>.map`. */
const JIT_DSO = /perf-\d+\.map$/

export const KINDS = [...BY_STACK.map(([k]) => k), 'malloc and free', 'kernel', 'idle', 'compiled JavaScript and WebAssembly', 'V8 built-ins, Node and libraries'] as const

export interface PerfSummary {
  samples: number
  /** Share of the samples (%) by whose thread they fell in, largest first. */
  byRole: Record<string, number>
  /** Share of the samples (%) by kind of work ({@link KINDS}), largest first. */
  byKind: Record<string, number>
}

interface Frame { sym: string, dso: string }

/** The kind of work of one sample's stack (leaf first); pid 0 is the idle task. */
function kindOf (pid: number, frames: Frame[]): string {
  if (pid === 0) return 'idle'
  for (const [kind, rx] of BY_STACK) if (frames.some((f) => rx.test(f.sym))) return kind
  const leaf = frames[0]
  if (leaf !== undefined && MALLOC.test(leaf.sym)) return 'malloc and free'
  if (leaf !== undefined && leaf.dso === KERNEL_DSO) return 'kernel'
  if (leaf !== undefined && JIT_DSO.test(leaf.dso)) return 'compiled JavaScript and WebAssembly'
  return 'V8 built-ins, Node and libraries'
}

function shares (counts: Map<string, number>, total: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) out[k] = Math.round(n / total * 1000) / 10
  return out
}

/**
 * Sums the text of `perf script -F comm,pid,tid,ip,sym,dso -i <file>`: a line `command pid/tid` per
 * sample, then its frames, leaf first, each `address symbol (dso)`. `roleOf` names a sample's thread.
 */
export function summarizePerfScript (text: string, roleOf: (pid: number, tid: number, command: string) => string): PerfSummary {
  const byRole = new Map<string, number>()
  const byKind = new Map<string, number>()
  let samples = 0
  let sample: { pid: number, tid: number, command: string, frames: Frame[] } | undefined
  const done = (): void => {
    if (sample === undefined) return
    samples++
    const role = sample.pid === 0 ? 'idle' : roleOf(sample.pid, sample.tid, sample.command)
    byRole.set(role, (byRole.get(role) ?? 0) + 1)
    const kind = kindOf(sample.pid, sample.frames)
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
    sample = undefined
  }
  for (const line of text.split('\n')) {
    const head = /^\s*(.*?)\s*(\d+)\/(\d+)\s*$/.exec(line)
    if (head !== null && !line.startsWith('\t')) {
      done()
      sample = { pid: Number(head[2]), tid: Number(head[3]), command: head[1], frames: [] }
      continue
    }
    if (sample === undefined) continue
    const frame = /^\s+[0-9a-f]+\s+(.*?)\s+\(([^()]*)\)\s*$/.exec(line)
    if (frame !== null) sample.frames.push({ sym: frame[1], dso: frame[2] })
  }
  done()
  return { samples, byRole: shares(byRole, Math.max(1, samples)), byKind: shares(byKind, Math.max(1, samples)) }
}

/** The summary as two lines of progress output. */
export function describePerf (s: PerfSummary): string[] {
  const list = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')
  return [`whole machine, % of ${s.samples.toLocaleString('en')} samples, by thread: ${list(s.byRole)}`, `by kind of work: ${list(s.byKind)}`]
}

/**
 * Why `perf` cannot sample the whole machine here (not installed, not allowed), or undefined when
 * it can: a recording of `true` must succeed.
 */
export function perfMissing (): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'egif-bench-perf-'))
  try {
    const r = spawnSync('perf', ['record', '-a', '-e', 'cpu-clock', '-o', join(dir, 'probe.data'), '--', 'true'], { encoding: 'utf8' })
    if (r.error !== undefined) return r.error.message
    if (r.status !== 0) return `perf record exited with ${String(r.status)}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`
    return undefined
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `perf script` of a recording, as `summarizePerfScript` reads it. */
export function perfScript (file: string): string {
  const r = spawnSync('perf', ['script', '-F', 'comm,pid,tid,ip,sym,dso', '-i', file], { encoding: 'utf8', maxBuffer: 1 << 30 })
  if (r.error !== undefined) throw r.error
  if (r.status !== 0) throw new Error(`perf script exited with ${String(r.status)}: ${(r.stderr ?? '').trim().slice(-300)}`)
  return r.stdout
}
