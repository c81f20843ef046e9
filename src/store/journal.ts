import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, readdirSync, fsyncSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { DurableFile, syncDirectory } from './durable-file.js'
import { FlushSchedule, LINGER_MS, type WriteOptions } from './flush-schedule.js'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { HubError } from '../errors.js'

/**
 * An append-only, checksummed, group-committed log in a folder of segment files.
 *
 * Frame: u32 total length (of what follows the 8-byte prefix) · u32 CRC-32 of it · u32 length of
 * the JSON header · JSON header · payload bytes. A frame is acknowledged only once it is on disk,
 * and every append waiting at that moment shares one sync (group commit), so a burst of N messages
 * costs one disk flush rather than N. After a crash, the last segment is read up to its last whole,
 * checksummed frame and cut there: a torn write is dropped, never half-read.
 */
export interface JournalEntry<H> {
  header: H
  /** Where the payload lives, to read it back later without keeping it in memory. */
  payload: PayloadLocation | null
  /** Where the whole frame lives, to read the header back (`readHeader`). */
  frame: FrameLocation
}

export interface FrameLocation {
  segment: number
  /** Where the frame starts in its segment file. */
  offset: number
}

/** Where an appended record went. */
export interface Appended {
  frame: FrameLocation
  payload: PayloadLocation | null
}

export interface PayloadLocation {
  segment: number
  offset: number
  length: number
}

export interface JournalOptions {
  /** Segment size after which a new file is started. Default 64 MiB. */
  segmentBytes?: number
  /** Skip fsync (tests of other parts only; never in production). Default false. */
  unsafeNoSync?: boolean
  /** How long a record appended with `linger` may wait for company (ms). Default `LINGER_MS`. */
  lingerMs?: number
}

interface Pending {
  head: Buffer
  payload?: Uint8Array
  /** Bytes of the whole frame. */
  length: number
  resolve: (appended: Appended) => void
  reject: (err: Error) => void
}

const PREFIX = 12

/**
 * One frame: prefix (lengths and CRC-32) and JSON header in one buffer, the payload as its own
 * (written after it with the same system call, so a body is never copied into the frame). The
 * header's JSON is written straight into the frame's buffer: no buffer of its own to copy from.
 */
function encodeFrame (header: unknown, payload?: Uint8Array): { head: Buffer, payload?: Uint8Array, length: number } {
  const json = JSON.stringify(header)
  const hlen = Buffer.byteLength(json, 'utf8')
  const plen = payload?.length ?? 0
  const head = Buffer.allocUnsafe(PREFIX + hlen)
  head.writeUInt32BE(4 + hlen + plen, 0)
  head.writeUInt32BE(hlen, 8)
  head.write(json, PREFIX, 'utf8')
  let crc = crc32(head.subarray(8))
  if (payload !== undefined && plen > 0) crc = crc32(payload, crc)
  head.writeUInt32BE(crc, 4)
  return plen > 0 ? { head, payload, length: head.length + plen } : { head, length: head.length }
}

function segmentName (n: number): string {
  return `${String(n).padStart(8, '0')}.seg`
}

export class Journal<H> {
  private fh: DurableFile | null = null
  private segment = 0
  private size = 0
  private queue: Pending[] = []
  private readonly schedule: FlushSchedule
  private broken: Error | null = null
  private readonly readFds = new Map<number, number>()
  private readonly segmentBytes: number
  private readonly sync: boolean

  private constructor (private readonly dir: string, opts: JournalOptions) {
    this.segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024
    this.sync = opts.unsafeNoSync !== true
    this.schedule = new FlushSchedule(async () => { await this.flush() }, opts.lingerMs ?? LINGER_MS)
  }

  /**
   * Opens the journal, calling `onEntry` for every record in order (recovery), then readies it for
   * appends. A corrupt frame in an older segment is fatal: it means the disk lost data that was
   * acknowledged, and starting would hide that.
   */
  static async open<H> (dir: string, onEntry: (e: JournalEntry<H>) => void, opts: JournalOptions = {}): Promise<Journal<H>> {
    mkdirSync(dir, { recursive: true })
    const j = new Journal<H>(dir, opts)
    const segments = readdirSync(dir).filter((f) => /^\d{8}\.seg$/.test(f)).map((f) => Number(f.slice(0, 8))).sort((a, b) => a - b)
    for (let i = 0; i < segments.length; i++) {
      const last = i === segments.length - 1
      const goodEnd = j.replaySegment(segments[i], onEntry, last)
      if (last) {
        j.segment = segments[i]
        j.size = goodEnd
      }
    }
    if (segments.length === 0) {
      j.segment = 1
      j.size = 0
    }
    j.fh = await DurableFile.open(join(dir, segmentName(j.segment)), j.sync)
    return j
  }

  private replaySegment (n: number, onEntry: (e: JournalEntry<H>) => void, last: boolean): number {
    const file = join(this.dir, segmentName(n))
    const fd = openSync(file, 'r+')
    try {
      const total = fstatSync(fd).size
      let pos = 0
      const prefix = Buffer.alloc(PREFIX)
      while (pos + PREFIX <= total) {
        readSync(fd, prefix, 0, PREFIX, pos)
        const len = prefix.readUInt32BE(0)
        const crc = prefix.readUInt32BE(4)
        const hlen = prefix.readUInt32BE(8)
        if (len < 4 || hlen > len - 4 || pos + 8 + len > total) break
        const rest = Buffer.allocUnsafe(len - 4)
        readSync(fd, rest, 0, len - 4, pos + PREFIX)
        if (crc32(rest, crc32(prefix.subarray(8, 12))) !== crc) break
        let header: H
        try {
          header = JSON.parse(rest.subarray(0, hlen).toString('utf8')) as H
        } catch {
          break
        }
        const plen = len - 4 - hlen
        onEntry({ header, payload: plen > 0 ? { segment: n, offset: pos + PREFIX + hlen, length: plen } : null, frame: { segment: n, offset: pos } })
        pos += 8 + len
      }
      if (pos !== total) {
        if (!last) {
          throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `journal segment ${file} is corrupt at byte ${pos} although later segments exist; restore it from a backup`)
        }
        // A torn tail from a crash: the frame was never acknowledged, so it is dropped.
        ftruncateSync(fd, pos)
        fsyncSync(fd)
      }
      return pos
    } finally {
      closeSync(fd)
    }
  }

  /** Appends one record; resolves once it is on disk, with where its payload is. */
  async append (header: H, payload?: Uint8Array): Promise<PayloadLocation | null> {
    return (await this.appendRecord(header, payload)).payload
  }

  /**
   * Appends one record; resolves once it is on disk, with where the frame and its payload are.
   * `linger`: nobody waits for this record, so its write may wait a few milliseconds to go with
   * others (`FlushSchedule`).
   */
  appendRecord (header: H, payload?: Uint8Array, opts: WriteOptions = {}): Promise<Appended> {
    if (this.broken !== null) return Promise.reject(new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', this.broken.message))
    if (this.fh === null) return Promise.reject(new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', 'the journal is closed'))
    const frame = encodeFrame(header, payload)
    return new Promise((resolve, reject) => {
      this.queue.push({ head: frame.head, payload: frame.payload, length: frame.length, resolve, reject })
      this.schedule.queued(opts.linger)
    })
  }

  private async flush (): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      try {
        if (this.size >= this.segmentBytes) await this.rotate()
        const fh = this.fh
        if (fh === null) throw new Error('the journal is closed')
        const parts: Uint8Array[] = []
        let length = 0
        for (const p of batch) {
          parts.push(p.head)
          if (p.payload !== undefined) parts.push(p.payload)
          length += p.length
        }
        const start = this.size
        try {
          await fh.appendParts(parts, length)
        } catch (err) {
          // Cut back to the last acknowledged byte so a later append does not follow a torn frame.
          try {
            await fh.truncate(start)
          } catch (cutErr) {
            this.broken = cutErr as Error
          }
          throw err
        }
        this.size += length
        let off = start
        for (const p of batch) {
          p.resolve({
            frame: { segment: this.segment, offset: off },
            payload: p.payload !== undefined ? { segment: this.segment, offset: off + p.head.length, length: p.payload.length } : null
          })
          off += p.length
        }
      } catch (err) {
        const e = new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `cannot write the journal: ${(err as Error).message}`)
        for (const p of batch) p.reject(e)
      }
    }
    this.schedule.finished()
  }

  private async rotate (): Promise<void> {
    await this.fh?.close()
    this.segment += 1
    this.size = 0
    this.fh = await DurableFile.open(join(this.dir, segmentName(this.segment)), this.sync)
    // The new file's directory entry must survive a crash too.
    await syncDirectory(this.dir)
  }

  /** The segment appends go to; older segments are sealed and may be rewritten. */
  get currentSegment (): number {
    return this.segment
  }

  /**
   * Rewrites a sealed segment with the payloads of some records dropped (their headers stay, in
   * order, so a replay rebuilds the same state without those bodies). The new file is complete and
   * synced before it replaces the old one: a crash leaves one or the other, never half of each.
   * Resolves with where each frame moved: old offset → new offset in that segment.
   */
  async dropPayloads (segment: number, drop: (header: H) => boolean): Promise<Map<number, number>> {
    if (segment >= this.segment) throw new Error(`segment ${segment} is still being written`)
    const file = join(this.dir, segmentName(segment))
    const frames: Uint8Array[] = []
    const moved = new Map<number, number>()
    let at = 0
    this.replaySegment(segment, (e) => {
      const payload = e.payload !== null && !drop(e.header) ? this.read(e.payload) : undefined
      const frame = encodeFrame(e.header, payload)
      moved.set(e.frame.offset, at)
      at += frame.length
      frames.push(frame.head)
      if (frame.payload !== undefined) frames.push(frame.payload)
    }, false)
    const fd = this.readFds.get(segment)
    if (fd !== undefined) {
      closeSync(fd)
      this.readFds.delete(segment)
    }
    const tmp = `${file}.rewrite`
    const out = await open(tmp, 'w')
    try {
      await out.writeFile(Buffer.concat(frames))
      await out.datasync()
    } finally {
      await out.close()
    }
    await rename(tmp, file)
    await syncDirectory(this.dir)
    return moved
  }

  /** Reads a record's header back from where `appendRecord` or the replay said its frame is. */
  readHeader (loc: FrameLocation): H {
    const fd = this.readFd(loc.segment)
    const prefix = Buffer.allocUnsafe(PREFIX)
    if (readSync(fd, prefix, 0, PREFIX, loc.offset) !== PREFIX) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `short read from journal segment ${loc.segment}`)
    const hlen = prefix.readUInt32BE(8)
    const header = Buffer.allocUnsafe(hlen)
    if (readSync(fd, header, 0, hlen, loc.offset + PREFIX) !== hlen) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `short read from journal segment ${loc.segment}`)
    return JSON.parse(header.toString('utf8')) as H
  }

  private readFd (segment: number): number {
    let fd = this.readFds.get(segment)
    if (fd === undefined) {
      const file = join(this.dir, segmentName(segment))
      if (!existsSync(file)) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `journal segment ${file} is missing`)
      fd = openSync(file, 'r')
      this.readFds.set(segment, fd)
    }
    return fd
  }

  /** Reads a payload back. */
  read (loc: PayloadLocation): Buffer {
    const fd = this.readFd(loc.segment)
    const buf = Buffer.allocUnsafe(loc.length)
    const n = readSync(fd, buf, 0, loc.length, loc.offset)
    if (n !== loc.length) throw new HubError('EGIF_ERR_STORAGE_UNAVAILABLE', `short read from journal segment ${loc.segment}`)
    return buf
  }

  /** Waits for pending appends, then closes the files. */
  async close (): Promise<void> {
    await this.schedule.drain()
    await this.fh?.close()
    this.fh = null
    for (const fd of this.readFds.values()) closeSync(fd)
    this.readFds.clear()
  }
}
