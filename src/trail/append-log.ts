import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, truncateSync, writeFileSync } from 'node:fs'
import { DurableFile } from '../store/durable-file.js'
import { FlushSchedule, LINGER_MS, type WriteOptions } from '../store/flush-schedule.js'
import { dirname } from 'node:path'
import { HubError } from '../errors.js'

export interface AppendLogOptions {
  /** Skip fsync (tests of other parts only; never in production). Default false. */
  unsafeNoSync?: boolean
  /** How long a line appended with `linger` may wait for company (ms). Default `LINGER_MS`. */
  lingerMs?: number
}

interface Pending {
  line: Buffer
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * A file of newline-terminated lines, appended with group commit: lines that arrive while a write
 * is in progress wait for the next one, and each batch is one durable write (`DurableFile`) for the
 * whole batch (the pattern of `src/store/journal.ts`). A line is acknowledged only once synced.
 * Lines are queued in call order, so their order on disk is the order of the calls.
 */
export class AppendLog {
  private fh: DurableFile | null = null
  private queue: Pending[] = []
  private readonly schedule: FlushSchedule
  private broken: Error | null = null
  /** Bytes on disk and acknowledged. */
  size = 0
  private readonly sync: boolean

  private constructor (readonly file: string, opts: AppendLogOptions) {
    this.sync = opts.unsafeNoSync !== true
    this.schedule = new FlushSchedule(async () => { await this.flush() }, opts.lingerMs ?? LINGER_MS)
  }

  /**
   * Opens the file for appends after the first `goodEnd` bytes; anything after them (a torn
   * line from a crash, never acknowledged) is cut off.
   */
  static async open (file: string, goodEnd: number, opts: AppendLogOptions = {}): Promise<AppendLog> {
    const log = new AppendLog(file, opts)
    mkdirSync(dirname(file), { recursive: true })
    if (!existsSync(file)) {
      writeFileSync(file, '')
      // The new file's directory entry must survive a crash too.
      const dfd = openSync(dirname(file), 'r')
      try { fsyncSync(dfd) } finally { closeSync(dfd) }
    }
    truncateSync(file, goodEnd)
    log.size = goodEnd
    log.fh = await DurableFile.open(file, log.sync)
    return log
  }

  /**
   * Queues a line (without its newline); resolves once it is on disk. `linger`: nobody waits for
   * it, so its write may wait a few milliseconds to go with others (`FlushSchedule`).
   */
  append (line: Buffer, opts: WriteOptions = {}): Promise<void> {
    if (this.broken !== null) return Promise.reject(new HubError('EGIF_ERR_TRAIL_UNAVAILABLE', this.broken.message))
    if (this.fh === null) return Promise.reject(new HubError('EGIF_ERR_TRAIL_UNAVAILABLE', `${this.file} is closed`))
    return new Promise((resolve, reject) => {
      this.queue.push({ line, resolve, reject })
      this.schedule.queued(opts.linger)
    })
  }

  private async flush (): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      const parts: Buffer[] = []
      let length = 0
      for (const p of batch) {
        parts.push(p.line, NEWLINE)
        length += p.line.length + 1
      }
      const start = this.size
      try {
        const fh = this.fh
        if (fh === null) throw new Error('closed')
        await fh.appendParts(parts, length)
        this.size += length
        for (const p of batch) p.resolve()
      } catch (err) {
        // A torn batch must not stay in front of later lines: cut back, or stop taking appends.
        try { await this.fh?.truncate(start) } catch (cutErr) { this.broken = cutErr as Error }
        this.broken ??= err as Error
        const e = new HubError('EGIF_ERR_TRAIL_UNAVAILABLE', `cannot write ${this.file}: ${(err as Error).message}`)
        for (const p of batch) p.reject(e)
        for (const p of this.queue.splice(0)) p.reject(e)
      }
    }
    this.schedule.finished()
  }

  /** Waits for queued lines, then closes the file. */
  async close (): Promise<void> {
    await this.schedule.drain()
    await this.fh?.close()
    this.fh = null
  }
}

const NEWLINE = Buffer.from('\n')
