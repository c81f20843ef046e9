import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { HubError } from '../errors.js'
import { participantsOf, type TrailRecord } from './event.js'
import { GENESIS, leafHash, toHex } from './hash.js'
import { MerkleTree } from './merkle.js'
import { decodeRecord } from './record.js'
import { forEachLine } from './lines.js'
import { Float64List, Uint32List } from './typed-list.js'
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
  private readonly offsets = new Float64List()
  private readonly lengths = new Uint32List()
  /** Each record's time, ms since the epoch (records are in time order). */
  private readonly times = new Float64List()
  private readonly byMessage = new Map<string, number[]>()
  /** Few keys with long lists: kept as typed lists. */
  private readonly byParticipant = new Map<string, Uint32List>()
  private readonly byType = new Map<string, Uint32List>()
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
    this.times.push(Date.parse(r.at))
    this.lastAt = r.at
    this.lastOfType.set(r.type, r)
    if (r.messageId !== undefined) {
      const l = this.byMessage.get(r.messageId)
      // A new array of the exact length each time: push would leave room for 16 more, for every
      // message (a message has a handful of records).
      this.byMessage.set(r.messageId, l === undefined ? [i] : l.concat(i))
    }
    for (const p of participantsOf(r)) pushTyped(this.byParticipant, p, i)
    if (r.documentType !== undefined) pushTyped(this.byType, r.documentType, i)
  }

  /** The bytes of record `i` as written. */
  line (i: number): Buffer {
    if (!(i >= 0 && i < this.size)) throw new HubError('EGIF_ERR_NOT_FOUND', `trail ${this.log} has no record ${i}`)
    this.fd ??= openSync(join(this.dir, RECORDS_FILE), 'r')
    const buf = Buffer.allocUnsafe(this.lengths.at(i))
    readSync(this.fd, buf, 0, buf.length, this.offsets.at(i))
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
      q.participant !== undefined ? this.byParticipant.get(q.participant)?.view() ?? [] : undefined,
      q.documentType !== undefined ? this.byType.get(q.documentType)?.view() ?? [] : undefined
    ].filter((l): l is number[] | Uint32Array => l !== undefined)
    const lo = Math.max(q.from !== undefined ? this.firstAtOrAfter(q.from) : 0, q.after !== undefined ? q.after + 1 : 0)
    const hi = Math.min(upTo, q.to !== undefined ? this.firstAfter(q.to) : upTo)
    const candidates = lists.length > 0 ? inAll(lists, lo, hi) : range(lo, hi)
    const records: TrailRecord[] = []
    for (const i of candidates) {
      if (records.length === limit) return { records, next: records[records.length - 1].i }
      records.push(this.record(i))
    }
    return { records }
  }

  /** Index of the first record at or after `time` (records are in time order). */
  firstAtOrAfter (time: string): number {
    const t = Date.parse(time)
    return this.bisect((v) => v >= t)
  }

  /** Index of the first record after `time`. */
  firstAfter (time: string): number {
    const t = Date.parse(time)
    return this.bisect((v) => v > t)
  }

  private bisect (pred: (t: number) => boolean): number {
    const times = this.times.view()
    let lo = 0
    let hi = times.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (pred(times[mid])) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  close (): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}

function pushTyped (m: Map<string, Uint32List>, k: string, i: number): void {
  let l = m.get(k)
  if (l === undefined) m.set(k, l = new Uint32List(16))
  l.push(i)
}

/** Position of the first item ≥ v in an ascending list. */
function lowerBound (l: ArrayLike<number>, v: number): number {
  let lo = 0
  let hi = l.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (l[mid] < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Record indexes in [lo, hi) found in every list (each ascending), walking the shortest. */
function * inAll (lists: Array<ArrayLike<number>>, lo: number, hi: number): Generator<number> {
  const [first, ...others] = [...lists].sort((a, b) => a.length - b.length)
  for (let k = lowerBound(first, lo); k < first.length && first[k] < hi; k++) {
    const i = first[k]
    if (others.every((l) => { const p = lowerBound(l, i); return p < l.length && l[p] === i })) yield i
  }
}

function * range (lo: number, hi: number): Generator<number> {
  for (let i = lo; i < hi; i++) yield i
}

function corrupt (log: string, index: number, why: string): HubError {
  return new HubError('EGIF_ERR_TRAIL_CORRUPT', `trail ${log}: record ${index} is bad (${why}); verify the trail with "egif trail verify" and restore it from a copy`)
}
