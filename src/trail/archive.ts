import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { FlushSchedule, LINGER_MS } from '../store/flush-schedule.js'
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
  /**
   * How long a body may wait for others before it is written (ms): nobody waits for the archive
   * (the message store holds the durable copy), so at a light load a write carries several bodies
   * instead of one each. Default `LINGER_MS`.
   */
  lingerMs?: number
  /**
   * How many of the bodies this archive wrote last it remembers, so that the same bytes received
   * again the same day are not written again. Default 16384 (~3 MB). Older repeats are written
   * again: harmless, `get` finds either copy and retention removes both.
   */
  recentBodies?: number
  logger?: Logger
  now?: () => Date
}

/**
 * A frame in a pack: a 44-byte header, then the body.
 *
 *   0  4  magic "EGB1"
 *   4  4  body length, unsigned big-endian
 *   8  4  the length's bitwise complement (a torn or damaged header does not pass for a frame)
 *  12 32  SHA-256 of the body (the message's digest)
 *  44  n  the body, byte for byte
 *
 * A frame counts only if it is whole; a body is returned only if its SHA-256 is the digest in its
 * header, so a tail torn by a crash, or zeros where the kernel had not written the data yet, are
 * skipped and never returned as a body.
 */
const MAGIC = Buffer.from('EGB1', 'latin1')
const HEADER = 44
const PACK = /^[0-9A-Za-z._-]+\.pack$/
const DAY = /^\d{4}-\d{2}-\d{2}$/
const LEGACY = /^[0-9a-f]{64}$/
/** Most frames and bytes in one `writev`: under IOV_MAX (1024 buffers) and a bounded copy in flight. */
const BATCH_FRAMES = 256
const BATCH_BYTES = 8 << 20
/** Packs kept open: today's and yesterday's (bodies received just before midnight). */
const OPEN_PACKS = 2
/** How often a pack checks that it is still in its folder (an operator may remove a day by hand). */
const LINK_CHECK_MS = 1000

/** Nothing of the body was written: the pack had ended; `put` writes it to a new one. */
class PackClosed extends Error {}

interface Frame { header: Buffer, body: Uint8Array, resolve: () => void, reject: (err: unknown) => void }

/** One pack file this archive appends to: one writer, one `writev` at a time. */
class Pack {
  size = 0
  broken = false
  private queue: Frame[] = []
  /** Nobody waits for a body's write (the message store holds the durable copy): every one lingers for company. */
  private readonly schedule: FlushSchedule
  private checkedAt = Date.now()

  constructor (readonly day: string, readonly path: string, private readonly fh: FileHandle, lingerMs: number) {
    this.schedule = new FlushSchedule(async () => { await this.flush() }, lingerMs)
  }

  /** Appends a frame; resolves once it is written (to the page cache: the archive is not fsynced). */
  async append (digestHex: string, body: Uint8Array): Promise<void> {
    const header = Buffer.allocUnsafe(HEADER)
    MAGIC.copy(header, 0)
    header.writeUInt32BE(body.length, 4)
    header.writeUInt32BE(~body.length >>> 0, 8)
    header.write(digestHex, 12, 32, 'hex')
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ header, body, resolve, reject })
      this.schedule.queued(true)
    })
  }

  /**
   * Writes the queue, batch after batch: the bodies that arrive during one write go in the next.
   * Whether the queue is empty and `finished()` are one synchronous step (`FlushSchedule`).
   */
  private async flush (): Promise<void> {
    while (this.queue.length > 0) {
      try {
        await this.writeBatch()
      } catch (err) {
        this.broken = true
        for (const f of this.queue.splice(0)) f.reject(err)
      }
    }
    this.schedule.finished()
  }

  /** Writes the first bodies of the queue in one `writev`, or refuses them once the pack is broken. */
  private async writeBatch (): Promise<void> {
    let frames = 0
    let bytes = 0
    while (frames < this.queue.length && frames < BATCH_FRAMES && (frames === 0 || bytes + HEADER + this.queue[frames].body.length <= BATCH_BYTES)) {
      bytes += HEADER + this.queue[frames].body.length
      frames++
    }
    const batch = this.queue.splice(0, frames)
    if (!this.broken && Date.now() - this.checkedAt >= LINK_CHECK_MS) {
      this.checkedAt = Date.now()
      // Removed from its folder (by hand): what is written to it now would be lost.
      if ((await this.fh.stat().catch(() => ({ nlink: 0 }))).nlink === 0) this.broken = true
    }
    if (this.broken) {
      for (const f of batch) f.reject(new PackClosed(`pack ${this.path} is closed`))
      return
    }
    try {
      const buffers = batch.flatMap((f) => [f.header, f.body])
      const { bytesWritten } = await this.fh.writev(buffers, this.size)
      if (bytesWritten !== bytes) throw new Error(`short write to ${this.path}: ${bytesWritten} of ${bytes} bytes`)
    } catch (err) {
      // A partial frame may be on disk now: nothing more goes after it, so it stays a torn tail.
      this.broken = true
      for (const f of batch) f.reject(err)
      return
    }
    this.size += bytes
    for (const f of batch) f.resolve()
  }

  /** Waits for the queue, then closes the file. */
  async close (): Promise<void> {
    await this.schedule.drain()
    this.broken = true
    await this.fh.close().catch(() => {})
  }
}

/**
 * Document bodies by day of receipt: `<dir>/<YYYY-MM-DD>/<name>.pack`, frames appended by one
 * archive instance each (the name is made of the time it opened, the process id and random bytes,
 * and the file is created exclusively, so two processes sharing a data directory never write the
 * same file). Many bodies cost one `writev`. Retention removes whole days; each removal is recorded
 * in the trail (`bodies-expired`) first, and no trail record is ever removed: the trail holds
 * digests, so what was received stays provable after its bytes are gone.
 *
 * Not fsynced: the message store holds the durable copy of every body until its message is settled
 * and the retention has passed, long after the kernel has written the archive's pages. A crash may
 * leave a pack's last frames torn; they are skipped.
 */
export class BodyArchive {
  private readonly instance: string
  private packSeq = 0
  /** Open packs by day, or the promise of one being opened. */
  private readonly packs = new Map<string, Promise<Pack>>()
  /** Bodies written lately, by day + digest: the promise of their write (settled once written). */
  private readonly recent = new Map<string, Promise<void>>()
  private readonly recentMax: number
  private timer: NodeJS.Timeout | undefined
  private readonly now: () => Date
  private closing: Promise<void> | undefined

  constructor (readonly dir: string, private readonly opts: BodyArchiveOptions) {
    this.now = opts.now ?? (() => new Date())
    this.recentMax = opts.recentBodies ?? 16384
    this.instance = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${process.pid}-${randomBytes(4).toString('hex')}`
    mkdirSync(dir, { recursive: true })
  }

  /** Keeps a body (once per day and digest, among the bodies this archive wrote lately). */
  async put (receivedAt: string, digest: string, body: Uint8Array): Promise<void> {
    const hex = hexOf(digest)
    const day = receivedAt.slice(0, 10)
    const key = day + hex
    // Two messages with the same bytes on the same day share one frame: the second waits for the first.
    const known = this.recent.get(key)
    if (known !== undefined) return await known
    const write = (async () => {
      try {
        await (await this.pack(day)).append(hex, body)
      } catch (err) {
        if (!(err instanceof PackClosed)) throw err
        await (await this.pack(day)).append(hex, body)
      }
    })()
    if (this.recent.size >= this.recentMax) {
      // Forget the oldest (a `put` waiting for it keeps waiting for it).
      const oldest = this.recent.keys().next().value
      if (oldest !== undefined) this.recent.delete(oldest)
    }
    this.recent.set(key, write)
    try {
      await write
    } catch (err) {
      if (this.recent.get(key) === write) this.recent.delete(key)
      throw err
    }
  }

  /** A body, or undefined once it has expired (or if it was never archived whole). */
  async get (receivedAt: string, digest: string): Promise<Buffer | undefined> {
    const hex = hexOf(digest)
    const day = receivedAt.slice(0, 10)
    if (!DAY.test(day)) return undefined
    // A body put a moment ago may still be on its way to the pack: wait for its write.
    await this.recent.get(day + hex)?.catch(() => {})
    const want = Buffer.from(hex, 'hex')
    const dayDir = join(this.dir, day)
    let names: string[]
    try {
      names = (await readdir(dayDir)).sort()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    // A body archived one file per body, before packs.
    if (names.includes(hex)) return await readFile(join(dayDir, hex))
    for (const name of names.filter((n) => PACK.test(n))) {
      let found: Buffer | undefined
      await scanPack(join(dayDir, name), async (digestAt, bodyAt, length, fh) => {
        if (!want.equals(digestAt)) return false
        const body = Buffer.allocUnsafe(length)
        await readFully(fh, body, bodyAt)
        if (!createHash('sha256').update(body).digest().equals(want)) return false // a damaged frame
        found = body
        return true
      })
      if (found !== undefined) return found
    }
    return undefined
  }

  /** Removes the days older than the retention; returns how many bodies went. */
  async sweep (): Promise<number> {
    const days = this.opts.retentionDays ?? 0
    if (days <= 0) return 0
    const cutoff = new Date(this.now().getTime() - days * 86_400_000).toISOString().slice(0, 10)
    let removed = 0
    for (const day of readdirSync(this.dir).filter((d) => DAY.test(d)).sort()) {
      if (day >= cutoff) break
      const n = await this.countDay(join(this.dir, day))
      // Recorded first: a crash after it leaves bodies to remove again, never a silent removal.
      await this.opts.trail.append({ type: 'bodies-expired', size: n, detail: `bodies received on ${day} (retention ${days} days)` })
      const open = this.packs.get(day)
      if (open !== undefined) {
        this.packs.delete(day)
        await (await open.catch(() => undefined))?.close()
      }
      for (const key of this.recent.keys()) if (key.startsWith(day)) this.recent.delete(key)
      await rm(join(this.dir, day), { recursive: true, force: true })
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

  /** Stops the sweeps and closes the packs once their writes are done (`close` to wait for that). */
  stop (): void {
    clearInterval(this.timer)
    this.close().catch((err: unknown) => { this.opts.logger?.warn({ err }, 'could not close the archive\'s packs') })
  }

  /** Writes what is queued and closes the packs. A `put` after it opens a new pack. */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      const packs = [...this.packs.values()]
      this.packs.clear()
      for (const p of packs) await (await p.catch(() => undefined))?.close()
    })()
    try {
      await this.closing
    } finally {
      this.closing = undefined
    }
  }

  /** The pack this archive appends the day's bodies to, opened (and its day folder made) on first use. */
  private async pack (day: string): Promise<Pack> {
    const current = this.packs.get(day)
    if (current !== undefined) {
      const p = await current
      if (!p.broken) return p
      // A write to it failed: it ends there, and the day goes on in a new pack.
      if (this.packs.get(day) === current) {
        this.packs.delete(day)
        void p.close()
      }
      return await this.pack(day)
    }
    const opening = (async () => {
      if (!DAY.test(day)) throw new TypeError(`not a day of receipt: ${day}`)
      const dayDir = join(this.dir, day)
      await mkdir(dayDir, { recursive: true })
      const path = join(dayDir, `${this.instance}-${++this.packSeq}.pack`)
      // Exclusive: a file that exists already (another writer's) is never appended to.
      return new Pack(day, path, await open(path, 'wx'), this.opts.lingerMs ?? LINGER_MS)
    })()
    this.packs.set(day, opening)
    opening.catch(() => { if (this.packs.get(day) === opening) this.packs.delete(day) })
    // Older days than the last two are done: close their packs once written.
    if (this.packs.size > OPEN_PACKS) {
      const old = [...this.packs.keys()].sort().slice(0, this.packs.size - OPEN_PACKS).filter((d) => d !== day)
      for (const d of old) {
        const p = this.packs.get(d)!
        this.packs.delete(d)
        p.then(async (x) => { await x.close() }, () => {}).catch(() => {})
      }
    }
    return await opening
  }

  /** Whole frames in a day's packs, and bodies kept one file each before packs. */
  private async countDay (dayDir: string): Promise<number> {
    let n = 0
    for (const name of await readdir(dayDir)) {
      if (LEGACY.test(name)) n++
      else if (PACK.test(name)) n += await scanPack(join(dayDir, name), async () => false)
    }
    return n
  }
}

function hexOf (digest: string): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1]
  if (hex === undefined) throw new TypeError(`not a sha256 digest: ${digest}`)
  return hex
}

async function readFully (fh: FileHandle, into: Buffer, position: number): Promise<number> {
  let got = 0
  while (got < into.length) {
    const { bytesRead } = await fh.read(into, got, into.length - got, position + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return got
}

/**
 * Walks the whole frames of a pack, calling `visit(digest, bodyOffset, length, fh)` for each until
 * it returns true; returns how many frames it saw. Headers are read in 1 MiB chunks (a body that
 * ends past the chunk is skipped, not read). Bytes that are not a header (zeros where a crash left
 * the kernel's write undone) are stepped over to the next header; a header whose body runs past the
 * end of the file is the torn tail.
 */
async function scanPack (path: string, visit: (digest: Buffer, bodyOffset: number, length: number, fh: FileHandle) => Promise<boolean>): Promise<number> {
  let fh: FileHandle
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw err
  }
  try {
    const size = (await fh.stat()).size
    const chunk = Buffer.allocUnsafe(1 << 20)
    let base = 0 // file offset of chunk[0]
    let have = 0 // valid bytes in chunk
    let pos = 0
    let frames = 0
    /** Makes `n` bytes from `at` available in the chunk; false at the end of the file. */
    const ensure = async (at: number, n: number): Promise<boolean> => {
      if (at >= base && at + n <= base + have) return true
      if (at + n > size) return false
      base = at
      have = await readFully(fh, chunk.subarray(0, Math.min(chunk.length, size - at)), at)
      return have >= n
    }
    while (pos + HEADER <= size) {
      if (!await ensure(pos, HEADER)) break
      const h = pos - base
      const length = chunk.readUInt32BE(h + 4)
      if (chunk.compare(MAGIC, 0, 4, h, h + 4) !== 0 || ((chunk.readUInt32BE(h + 8) ^ length) >>> 0) !== 0xffffffff) {
        // Not a frame here: look for the next header in what follows.
        const next = chunk.subarray(0, have).indexOf(MAGIC, h + 1)
        if (next >= 0) pos = base + next
        else if (base + have < size) pos = Math.max(pos + 1, base + have - (MAGIC.length - 1))
        else break
        continue
      }
      // A header whose body goes past the end: the write was torn there, and nothing follows it.
      if (pos + HEADER + length > size) break
      frames++
      if (await visit(chunk.subarray(h + 12, h + HEADER), pos + HEADER, length, fh)) break
      pos += HEADER + length
    }
    return frames
  } finally {
    await fh.close()
  }
}
