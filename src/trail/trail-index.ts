import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { HubError } from '../errors.js'
import { participantsOf, type TrailRecord } from './event.js'
import { GENESIS, leafHash, toHex } from './hash.js'
import { MerkleTree } from './merkle.js'
import { decodeRecord } from './record.js'
import { forEachLine } from './lines.js'
import { peekCheckpoint, type CheckpointBody, type CheckpointLine } from './checkpoint.js'
import { CHECKPOINTS_FILE, RECORDS_FILE } from './files.js'

/** An auditor's search; every member optional, all given members must match. */
export interface TrailQuery {
  messageId?: string
  /** Matches sender, receiver, claimed sender, caller or `by`. */
  participant?: string
  documentType?: string
  /** ISO time, inclusive. */
  from?: string
  /** ISO time, inclusive. */
  to?: string
  /** Default 100, at most 1000. */
  limit?: number
  /** Continue after this record index (the `next` of an earlier page). */
  after?: number
}

export interface StoredCheckpoint extends CheckpointLine {
  body: CheckpointBody
}

/**
 * One log's records and checkpoints as loaded from its folder: the Merkle tree, where each record
 * sits in the file, and what searches need (records by message, participant, type; times in
 * order). Loading checks the chain, so a hub never appends to a trail that is already broken.
 */
export class TrailIndex {
  readonly tree = new MerkleTree()
  readonly checkpoints: StoredCheckpoint[] = []
  private readonly offsets: number[] = []
  private readonly lengths: number[] = []
  private readonly times: string[] = []
  private readonly byMessage = new Map<string, number[]>()
  private readonly byParticipant = new Map<string, number[]>()
  private readonly byType = new Map<string, number[]>()
  /** The last record of each type, for "did the configuration change since" questions. */
  readonly lastOfType = new Map<string, TrailRecord>()
  head: Buffer = GENESIS
  lastAt = ''
  /** File sizes up to the last whole line (a torn tail after a crash lies beyond). */
  recordsEnd = 0
  checkpointsEnd = 0
  private fd: number | null = null

  constructor (readonly dir: string, readonly log: string) {}

  get size (): number {
    return this.tree.size
  }

  /** Reads the folder. @throws HubError EGIF_ERR_TRAIL_CORRUPT naming the first bad record. */
  static load (dir: string, log: string): TrailIndex {
    const ix = new TrailIndex(dir, log)
    const records = join(dir, RECORDS_FILE)
    if (existsSync(records)) {
      ix.recordsEnd = forEachLine(records, (line, offset) => {
        let r: TrailRecord
        try {
          r = decodeRecord(line)
        } catch (err) {
          throw corrupt(log, ix.size, (err as Error).message)
        }
        if (r.i !== ix.size) throw corrupt(log, ix.size, `it says it is record ${r.i}`)
        if (r.prev !== toHex(ix.head)) throw corrupt(log, ix.size - 1, `record ${ix.size} does not chain to it`)
        ix.add(r, leafHash(line), offset, line.length)
      }).end
    }
    const cps = join(dir, CHECKPOINTS_FILE)
    if (existsSync(cps)) {
      ix.checkpointsEnd = forEachLine(cps, (line) => {
        const c = JSON.parse(line.toString('utf8')) as CheckpointLine
        const body = peekCheckpoint(c.checkpoint)
        if (body.size > ix.size || body.root !== toHex(ix.tree.root(body.size))) {
          throw new HubError('EGIF_ERR_TRAIL_CORRUPT', `trail ${log}: the checkpoint of size ${body.size} does not match the records (${ix.size} on disk); verify the trail with "egif trail verify"`)
        }
        ix.checkpoints.push({ ...c, body })
      }).end
    }
    return ix
  }

  /** Adds a record that is being appended (or was read back). */
  add (r: TrailRecord, leaf: Buffer, offset: number, length: number): void {
    const i = this.tree.size
    this.tree.append(leaf)
    this.head = leaf
    this.offsets.push(offset)
    this.lengths.push(length)
    this.times.push(r.at)
    this.lastAt = r.at
    this.lastOfType.set(r.type, r)
    if (r.messageId !== undefined) push(this.byMessage, r.messageId, i)
    for (const p of participantsOf(r)) push(this.byParticipant, p, i)
    if (r.documentType !== undefined) push(this.byType, r.documentType, i)
  }

  /** The bytes of record `i` as written. */
  line (i: number): Buffer {
    if (!(i >= 0 && i < this.size)) throw new HubError('EGIF_ERR_NOT_FOUND', `trail ${this.log} has no record ${i}`)
    this.fd ??= openSync(join(this.dir, RECORDS_FILE), 'r')
    const buf = Buffer.allocUnsafe(this.lengths[i])
    readSync(this.fd, buf, 0, buf.length, this.offsets[i])
    return buf
  }

  record (i: number): TrailRecord {
    return decodeRecord(this.line(i))
  }

  /** Records matching a query, oldest first, among the first `upTo` records. */
  search (q: TrailQuery, upTo = this.size): { records: TrailRecord[], next?: number } {
    const limit = Math.min(1000, Math.max(1, q.limit ?? 100))
    const lists = [
      q.messageId !== undefined ? this.byMessage.get(q.messageId) ?? [] : undefined,
      q.participant !== undefined ? this.byParticipant.get(q.participant) ?? [] : undefined,
      q.documentType !== undefined ? this.byType.get(q.documentType) ?? [] : undefined
    ].filter((l): l is number[] => l !== undefined)
    const lo = Math.max(q.from !== undefined ? this.firstAtOrAfter(q.from) : 0, q.after !== undefined ? q.after + 1 : 0)
    const hi = Math.min(upTo, q.to !== undefined ? this.firstAfter(q.to) : upTo)
    let candidates: Iterable<number>
    if (lists.length > 0) {
      lists.sort((a, b) => a.length - b.length)
      const others = lists.slice(1).map((l) => new Set(l))
      candidates = lists[0].filter((i) => i >= lo && i < hi && others.every((s) => s.has(i)))
    } else {
      candidates = range(lo, hi)
    }
    const records: TrailRecord[] = []
    for (const i of candidates) {
      if (records.length === limit) return { records, next: records[records.length - 1].i }
      records.push(this.record(i))
    }
    return { records }
  }

  /** Index of the first record at or after `time` (records are in time order). */
  firstAtOrAfter (time: string): number {
    return this.bisect((t) => t >= time)
  }

  /** Index of the first record after `time`. */
  firstAfter (time: string): number {
    return this.bisect((t) => t > time)
  }

  private bisect (pred: (t: string) => boolean): number {
    let lo = 0
    let hi = this.times.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (pred(this.times[mid])) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  close (): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}

function push (m: Map<string, number[]>, k: string, i: number): void {
  const l = m.get(k)
  if (l === undefined) m.set(k, [i])
  else l.push(i)
}

function * range (lo: number, hi: number): Generator<number> {
  for (let i = lo; i < hi; i++) yield i
}

function corrupt (log: string, index: number, why: string): HubError {
  return new HubError('EGIF_ERR_TRAIL_CORRUPT', `trail ${log}: record ${index} is bad (${why}); verify the trail with "egif trail verify" and restore it from a copy`)
}
