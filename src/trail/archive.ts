import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { TrailEvent } from './event.js'
import type { TrailPosition } from './trail.js'

export interface BodyArchiveOptions {
  /** Days a body is kept after receipt; 0 keeps bodies forever. Default 0. */
  retentionDays?: number
  /** How often expired bodies are removed (ms). Default one hour. */
  sweepEveryMs?: number
  /** Where expiries are recorded. */
  trail: { append: (e: TrailEvent) => Promise<TrailPosition> }
  /**
   * Removes the copies of expired bodies the message store keeps (the journal or Redis), for
   * settled messages received before the given time; returns how many. The same retention then
   * applies to every copy of a body the hub holds.
   */
  expireStored?: (before: Date) => Promise<number>
  logger?: Logger
  now?: () => Date
}

/**
 * Document bodies by day of receipt and digest: `<dir>/<YYYY-MM-DD>/<sha256 hex>`. Retention
 * removes whole days; each removal is recorded in the trail (`bodies-expired`), and no trail
 * record is ever removed: the trail holds digests, so what was received stays provable after its
 * bytes are gone.
 */
export class BodyArchive {
  private readonly writing = new Map<string, Promise<void>>()
  /** Day folders known to exist (made once a day, not once a message). */
  private readonly days = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private readonly now: () => Date

  constructor (readonly dir: string, private readonly opts: BodyArchiveOptions) {
    this.now = opts.now ?? (() => new Date())
    mkdirSync(dir, { recursive: true })
  }

  private path (receivedAt: string, digest: string): string {
    const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1]
    if (hex === undefined) throw new TypeError(`not a sha256 digest: ${digest}`)
    return join(this.dir, receivedAt.slice(0, 10), hex)
  }

  /** Keeps a body (once per day and digest). Written by rename, so a reader never sees half a file. */
  async put (receivedAt: string, digest: string, body: Uint8Array): Promise<void> {
    const file = this.path(receivedAt, digest)
    // Two messages with the same bytes on the same day share one file: the second waits for the first.
    const pending = this.writing.get(file)
    if (pending !== undefined) return await pending
    // Every file operation runs off the event loop: intake waits for it, other requests do not.
    const write = (async () => {
      if (await stat(file).then(() => true, () => false)) return
      const day = receivedAt.slice(0, 10)
      const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`
      try {
        if (!this.days.has(day)) await mkdir(join(this.dir, day), { recursive: true })
        await writeFile(tmp, body)
      } catch (err) {
        // The day's folder went away (removed by hand): make it again, once.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        await mkdir(join(this.dir, day), { recursive: true })
        await writeFile(tmp, body)
      }
      this.days.add(day)
      await rename(tmp, file)
    })()
    this.writing.set(file, write)
    try {
      await write
    } finally {
      this.writing.delete(file)
    }
  }

  /** A body, or undefined once it has expired. */
  get (receivedAt: string, digest: string): Buffer | undefined {
    const file = this.path(receivedAt, digest)
    return existsSync(file) ? readFileSync(file) : undefined
  }

  /** Removes the days older than the retention; returns how many bodies went. */
  async sweep (): Promise<number> {
    const days = this.opts.retentionDays ?? 0
    if (days <= 0) return 0
    const cutoff = new Date(this.now().getTime() - days * 86_400_000).toISOString().slice(0, 10)
    let removed = 0
    for (const day of readdirSync(this.dir).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort()) {
      if (day >= cutoff) break
      const n = readdirSync(join(this.dir, day)).filter((f) => /^[0-9a-f]{64}$/.test(f)).length
      // Recorded first: a crash after it leaves bodies to remove again, never a silent removal.
      await this.opts.trail.append({ type: 'bodies-expired', size: n, detail: `bodies received on ${day} (retention ${days} days)` })
      rmSync(join(this.dir, day), { recursive: true, force: true })
      this.days.delete(day)
      removed += n
    }
    if (this.opts.expireStored !== undefined) {
      const before = new Date(this.now().getTime() - days * 86_400_000)
      // Recorded first, as above; the count follows in the log.
      await this.opts.trail.append({ type: 'bodies-expired', detail: `message-store bodies of settled messages received before ${before.toISOString()} (retention ${days} days)` })
      const n = await this.opts.expireStored(before)
      this.opts.logger?.info({ removed: n, before: before.toISOString() }, 'expired bodies removed from the message store')
      removed += n
    }
    return removed
  }

  start (): void {
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => { this.opts.logger?.warn({ err }, 'archive sweep failed; it runs again later') })
    }, this.opts.sweepEveryMs ?? 3_600_000)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }
}
