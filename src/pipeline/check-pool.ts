import { availableParallelism } from 'node:os'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { ERRORS, HubError, type ErrorCode } from '../errors.js'
import type { HubConfig } from '../config/types.js'
import type { CheckInput, CheckResult } from './context.js'
import { checkMessage, type CheckDeps } from './check-message.js'
import { receiptPayloadJson, signReceiptJson, type SealKey } from '../crypto/receipt.js'
import type { Receipt } from '../store/types.js'
import { FlushSchedule } from '../store/flush-schedule.js'

/**
 * Where intake runs the document checks (parse, identify, validate, verify the sender's signature).
 * Implementations: on the event loop (`InlineChecks`) and in worker threads (`ThreadChecks`), which
 * is how embedded mode uses more than one core. Both give the same result or the same `HubError`.
 */
export interface DocumentChecks {
  /** @throws HubError the code of the stage that refused the document. */
  check: (input: CheckInput) => Promise<CheckResult>
  /**
   * Signs a receipt with the hub's current key where the checks run, when that is not the event
   * loop (see {@link ThreadChecks.signReceipt}); absent where the caller should sign itself.
   */
  signReceipt?: (receipt: Omit<Receipt, 'signature'>) => Promise<string>
  /** Waits for the checks under way, then stops. */
  close: () => Promise<void>
}

/** The checks on the calling thread. */
export class InlineChecks implements DocumentChecks {
  constructor (private readonly deps: CheckDeps) {}

  async check (input: CheckInput): Promise<CheckResult> {
    return checkMessage(input, this.deps)
  }

  async close (): Promise<void> {}
}

/** The default number of check threads: one per core but the event loop's, and at least one. */
export function defaultCheckThreads (): number {
  return Math.max(1, availableParallelism() - 1)
}

/** What a check thread is told at start (`check-thread.ts`). */
export interface CheckThreadData {
  config: HubConfig
  builtinSchemas: string
  /** The hub's current key (a KeyObject crosses to the thread as a copy), to seal what passes. */
  sealKey?: SealKey
}

/**
 * A thread's own part of what it is told: besides the shared data, one 32-bit counter shared with
 * the event loop, the checks handed to the thread that it has not started yet (the loop adds one
 * per check it posts, the thread takes one off as it starts it): how far behind the thread is, now.
 */
export interface CheckThreadWorkerData extends CheckThreadData {
  backlog: SharedArrayBuffer
}

/** A request to a check thread; the body travels as its own transferred buffer. */
export interface CheckRequestMessage {
  id: number
  body: Uint8Array
  format: CheckInput['format']
  sender: string
  declaredType?: string
  declaredVersion?: string
  detachedSignature?: string
  receivedAt: number
  seal?: CheckInput['seal']
}

/** Receipts to sign with the hub's key: their payloads as JSON text (`receiptPayloadJson`). */
export interface SignRequestMessage {
  id: number
  sign: string[]
}

export type CheckReplyMessage =
  | { id: number, result: CheckResult }
  | { id: number, signatures: string[] }
  | { id: number, error: { code: string, message: string, extra: Record<string, unknown> } }
  | { id: number, fault: string }

/** A thread's first message: ready (with its Linux thread id, when it can tell), or why it cannot start. */
export type CheckThreadStatus = { ready: true, tid?: number } | { bootError: { code: string, message: string } }

interface Pending {
  resolve: (r: unknown) => void
  reject: (err: Error) => void
}

/**
 * Receipts go to the least busy check thread only while it has at most this many checks handed to
 * it and not started (its backlog); past that it is the slower side (XML signatures at full load)
 * and the event loop signs them. Measured with the bench at saturation: a thread that falls behind
 * has 100–200 waiting; one that keeps up, a few. The backlog is read as the thread keeps it, not
 * from the checks whose answers the event loop has not read yet: when the event loop is the slower
 * side ((c), JSON) those answers pile up on its side, and counting them sent the receipts to the
 * loop, the busier of the two.
 */
const SIGN_BEHIND_AT_MOST = 32

interface ReceiptToSign {
  json: string
  resolve: (signature: string) => void
  reject: (err: Error) => void
}

interface Thread {
  worker: Worker
  pending: Map<number, Pending>
  /** The checks handed to the thread and not started yet (`CheckThreadWorkerData.backlog`). */
  backlog: Int32Array
  /** The operating system's id of the thread (Linux), for per-thread CPU accounting. */
  tid?: number
}

export interface ThreadChecksOptions {
  log?: Logger
  /**
   * The largest JavaScript heap of one check thread (MB): a document whose checks need more ends
   * that thread (its sender gets `EGIF_ERR_INTERNAL`) instead of the hub's memory. Default
   * {@link CHECK_THREAD_HEAP_MB}.
   */
  maxHeapMb?: number
}

/** The default of {@link ThreadChecksOptions.maxHeapMb}: fifty times the default body limit (`limits.maxBodyBytes`, 10 MiB). */
const CHECK_THREAD_HEAP_MB = 512

/**
 * A check thread's young generation, MB (V8 makes it two semi-spaces of a third each, and a
 * large-object space). What a check allocates dies within the check, so a small one is collected
 * often and cheaply; V8's default for a thread (sized for a main thread) held ~18 MB more each.
 */
const CHECK_THREAD_YOUNG_MB = 12

const ENTRY = new URL(`./check-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url)

/**
 * The thread's program. From a build it is `check-thread.js`. From the TypeScript sources the
 * thread needs a loader: a test runner's loader applies to worker threads, tsx's does not (it
 * registers itself on the main thread only), so when the first import fails for the extension the
 * thread registers tsx and loads the sources again under another URL.
 */
function threadProgram (): { program: string | URL, eval: boolean } {
  if (!ENTRY.pathname.endsWith('.ts')) return { program: ENTRY, eval: false }
  const program = `import(${JSON.stringify(ENTRY.href)}).catch(async (err) => {
  if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err
  const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  register()
  await import(${JSON.stringify(ENTRY.href + '?tsx')})
})`
  return { program, eval: true }
}

/**
 * The checks in a pool of worker threads, each with its own registries built from the same
 * configuration (schemas compiled once per thread, at start). A check goes to the thread with the
 * fewest under way. A thread that dies fails the checks it held with `EGIF_ERR_INTERNAL` (the
 * sender may send again: nothing was stored) and is replaced.
 */
export class ThreadChecks implements DocumentChecks {
  private readonly threads: Thread[] = []
  private nextId = 1
  private closing = false

  private readonly log: Logger | undefined
  private readonly maxHeapMb: number
  /** Receipts asked for since the last hand-over to a thread; handed over together. */
  private toSign: ReceiptToSign[] = []
  private readonly signing: FlushSchedule

  private constructor (private readonly data: CheckThreadData, opts: ThreadChecksOptions) {
    this.log = opts.log
    this.maxHeapMb = opts.maxHeapMb ?? CHECK_THREAD_HEAP_MB
    // Receipts are asked for by requests waiting for them: they go in the next turn, never linger.
    this.signing = new FlushSchedule(async () => { this.handOverSigning() }, 0)
  }

  /**
   * Starts `threads` check threads and waits until each has loaded the document types.
   * @throws HubError what a thread could not load (a schema, a certificate).
   */
  static async start (data: CheckThreadData, threads: number, opts: ThreadChecksOptions = {}): Promise<ThreadChecks> {
    const pool = new ThreadChecks(data, opts)
    try {
      await Promise.all(Array.from({ length: threads }, async () => { pool.threads.push(await pool.spawn()) }))
    } catch (err) {
      await pool.close()
      throw err
    }
    return pool
  }

  /**
   * Threads running: Node's thread id, the operating system's (Linux), the checks and batches each
   * holds (not answered yet, or answered and not read yet) and its backlog (checks not started).
   */
  threadInfo (): Array<{ threadId: number, tid?: number, pending: number, backlog: number }> {
    return this.threads.map((t) => ({ threadId: t.worker.threadId, ...(t.tid !== undefined ? { tid: t.tid } : {}), pending: t.pending.size, backlog: Atomics.load(t.backlog, 0) }))
  }

  private async spawn (): Promise<Thread> {
    const { program, eval: isEval } = threadProgram()
    const backlog = new SharedArrayBuffer(4)
    const workerData: CheckThreadWorkerData = { ...this.data, backlog }
    const worker = new Worker(program, { eval: isEval, workerData, resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb, maxYoungGenerationSizeMb: CHECK_THREAD_YOUNG_MB } })
    const thread: Thread = { worker, pending: new Map(), backlog: new Int32Array(backlog) }
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => { reject(new HubError('EGIF_ERR_INTERNAL', `a document-check thread stopped while starting (exit code ${code})`)) }
      worker.once('error', reject)
      worker.once('exit', onExit)
      worker.once('message', (m: CheckThreadStatus) => {
        worker.off('error', reject)
        worker.off('exit', onExit)
        if ('ready' in m) {
          if (m.tid !== undefined) thread.tid = m.tid
          resolve()
        } else reject(toHubError(m.bootError.code, m.bootError.message, {}))
      })
    })
    worker.on('message', (m: CheckReplyMessage) => {
      const p = thread.pending.get(m.id)
      if (p === undefined) return
      thread.pending.delete(m.id)
      if ('result' in m) p.resolve(m.result)
      else if ('signatures' in m) p.resolve(m.signatures)
      else if ('error' in m) p.reject(toHubError(m.error.code, m.error.message, m.error.extra))
      else p.reject(new Error(`document check failed: ${m.fault}`))
    })
    worker.on('error', (err) => { this.log?.error({ err }, 'a document-check thread failed') })
    worker.once('exit', (code) => { this.lost(thread, code) })
    return thread
  }

  /** A thread ended: its checks fail, and another takes its place unless the pool is closing. */
  /** The running thread with the fewest checks and batches waiting. */
  private leastBusy (): Thread | undefined {
    let thread: Thread | undefined
    for (const t of this.threads) if (thread === undefined || t.pending.size < thread.pending.size) thread = t
    return thread
  }

  private lost (thread: Thread, code: number): void {
    const i = this.threads.indexOf(thread)
    if (i >= 0) this.threads.splice(i, 1)
    const err = new HubError('EGIF_ERR_INTERNAL', 'the document checks stopped while this message was checked; nothing was stored, send it again')
    for (const p of thread.pending.values()) p.reject(err)
    thread.pending.clear()
    if (this.closing) return
    this.log?.warn({ code }, 'a document-check thread stopped; starting another')
    this.spawn().then((t) => {
      if (this.closing) void t.worker.terminate()
      else this.threads.push(t)
    }, (err: unknown) => { this.log?.error({ err }, 'could not start a document-check thread') })
  }

  async check (input: CheckInput): Promise<CheckResult> {
    if (this.closing) throw new HubError('EGIF_ERR_SHUTTING_DOWN')
    const thread = this.leastBusy()
    if (thread === undefined) throw new HubError('EGIF_ERR_INTERNAL', 'no document-check thread is running; send again shortly')
    const id = this.nextId++
    // A copy of exactly the body's bytes, moved (not copied again) to the thread.
    const body = new Uint8Array(input.body)
    const msg: CheckRequestMessage = { id, body, format: input.format, sender: input.sender, receivedAt: input.receivedAt.getTime() }
    if (input.declaredType !== undefined) msg.declaredType = input.declaredType
    if (input.declaredVersion !== undefined) msg.declaredVersion = input.declaredVersion
    if (input.detachedSignature !== undefined) msg.detachedSignature = input.detachedSignature
    if (input.seal !== undefined) msg.seal = input.seal
    const t = thread
    return await new Promise<CheckResult>((resolve, reject) => {
      // Held and counted once handed over: a message that cannot be posted rejects here and
      // leaves nothing behind (the answer comes in a later turn of the event loop in any case,
      // and the thread may count the check off a moment before it is counted on).
      t.worker.postMessage(msg, [body.buffer])
      t.pending.set(id, { resolve: resolve as (r: unknown) => void, reject })
      Atomics.add(t.backlog, 0, 1)
    })
  }

  /**
   * Signs a receipt in a check thread (which holds a copy of the hub key), so that the event loop,
   * the part of the hub every message waits for, does not spend ~30 µs of ECDSA on each. The
   * receipts asked for in one turn of the event loop go to a thread in one message (one hand-over
   * for all of them: handing over each one alone would cost about what it saves). Where no thread can sign (none
   * running, stopping, the thread stopped meanwhile) the receipt is signed here: a receipt is
   * never refused for want of a thread.
   */
  async signReceipt (receipt: Omit<Receipt, 'signature'>): Promise<string> {
    if (this.data.sealKey === undefined) throw new Error('the check threads hold no hub key')
    const json = receiptPayloadJson(receipt)
    return await new Promise<string>((resolve, reject) => {
      this.toSign.push({ json, resolve, reject })
      this.signing.queued()
    })
  }

  private handOverSigning (): void {
    // signReceipt queues nothing without a key, and the key never changes.
    const key = this.data.sealKey!
    const batch = this.toSign
    this.toSign = []
    this.signing.finished()
    const here = (): void => {
      for (const r of batch) {
        try {
          r.resolve(signReceiptJson(key, r.json))
        } catch (err) {
          r.reject(err as Error)
        }
      }
    }
    const thread = this.leastBusy()
    // A thread with many checks waiting is the bottleneck: the receipts would wait behind them
    // (and everything their messages hold would live that long), so the event loop signs them.
    if (thread === undefined || this.closing || Atomics.load(thread.backlog, 0) > SIGN_BEHIND_AT_MOST) return here()
    const id = this.nextId++
    thread.pending.set(id, {
      resolve: (signatures) => { batch.forEach((r, i) => { r.resolve((signatures as string[])[i]) }) },
      reject: here
    })
    thread.worker.postMessage({ id, sign: batch.map((r) => r.json) } satisfies SignRequestMessage)
  }

  async close (): Promise<void> {
    this.closing = true
    // A batch of receipts not yet handed over is signed here when its turn comes (closing).
    const threads = this.threads.splice(0)
    await Promise.all(threads.map(async (t) => {
      // Checks already handed over finish first; their requests are still being answered.
      while (t.pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 5))
      await t.worker.terminate()
    }))
  }
}

function toHubError (code: string, message: string, extra: Record<string, unknown>): Error {
  return Object.hasOwn(ERRORS, code) ? new HubError(code as ErrorCode, message, extra) : new Error(`${code}: ${message}`)
}
