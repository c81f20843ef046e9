import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { HubError } from '../errors.js'
import type { HubKeyRing } from '../crypto/jwks.js'
import type { TrailEvent } from './event.js'
import { leafHash, toHex } from './hash.js'
import { encodeRecordAndFields } from './record.js'
import { AppendLog } from './append-log.js'
import { signCheckpoint, type CheckpointBody, type CheckpointLine } from './checkpoint.js'
import { CHECKPOINTS_FILE, LOG_NAME, RECORDS_FILE, logDir } from './files.js'
import { TrailIndex, type StoredCheckpoint, type TrailQuery } from './trail-index.js'
import { bundleLines } from './bundle.js'
import { requestTimestamp } from './tsa.js'
import { join } from 'node:path'
import type { WriteOptions } from '../store/flush-schedule.js'

export interface TrailOptions {
  /** This process's log name (a path component). In cluster mode every process has its own. */
  log: string
  /** The hub's keys; the current one signs checkpoints. */
  keys: HubKeyRing
  /** A checkpoint once this many records are on disk since the last one. Default 1000. */
  checkpointEveryRecords?: number
  /** A checkpoint at least this often while records arrive (ms). Default 10000. */
  checkpointEveryMs?: number
  /** RFC 3161 time-stamping authority to stamp each checkpoint. Default: none. */
  tsaUrl?: string
  /** How long to wait for the authority (ms). Default 5000. */
  tsaTimeoutMs?: number
  /** Skip fsync (tests of other parts only; never in production). Default false. */
  unsafeNoSync?: boolean
  /** How long a record appended with `linger` may wait for company (ms). Default `LINGER_MS`. */
  lingerMs?: number
  logger?: Logger
  now?: () => Date
}

/** Where a record sits: what a receipt's `trail` member names. */
export interface TrailPosition {
  log: string
  index: number
}

/**
 * The tamper-evident audit trail of one hub process: records chained by hash, an RFC 9162 Merkle
 * tree over them, and checkpoints that sign its root. Appends are group-committed and fsynced;
 * `begin` hands out the position at once so intake can sign a receipt naming its record while
 * the record and the message are written in parallel.
 */
export class Trail {
  private readonly checkpointEvery: number
  /** Told of every record as it is taken (the hub's metrics); must not throw: it runs inside the append. */
  onRecord: ((e: TrailEvent) => void) | undefined
  private readonly timer: NodeJS.Timeout
  private durable = 0
  /** Where the next record starts in the file (lines are written in the order they are begun). */
  private nextOffset: number
  private checkpointing: Promise<StoredCheckpoint | undefined> = Promise.resolve(undefined)
  private closed = false
  private readonly now: () => Date

  private constructor (
    readonly log: string,
    private readonly ix: TrailIndex,
    private readonly records: AppendLog,
    private readonly cps: AppendLog,
    private readonly opts: TrailOptions
  ) {
    this.now = opts.now ?? (() => new Date())
    this.durable = ix.size
    this.nextOffset = ix.recordsEnd
    this.checkpointEvery = opts.checkpointEveryRecords ?? 1000
    this.timer = setInterval(() => {
      if (this.durable > this.coveredSize()) void this.checkpoint().catch(() => {})
    }, opts.checkpointEveryMs ?? 10_000)
    this.timer.unref()
  }

  /**
   * Opens (or creates) the log `<dir>/<log>/`, checking its chain and checkpoints.
   * @throws HubError EGIF_ERR_TRAIL_CORRUPT when the trail on disk does not verify.
   */
  static async open (dir: string, opts: TrailOptions): Promise<Trail> {
    if (!LOG_NAME.test(opts.log)) throw new HubError('EGIF_ERR_CONFIG_INVALID', `trail log name "${opts.log}" must be letters, digits and . _ - @ : (at most 128)`)
    const d = logDir(dir, opts.log)
    const ix = TrailIndex.load(d, opts.log)
    const records = await AppendLog.open(join(d, RECORDS_FILE), ix.recordsEnd, opts)
    const cps = await AppendLog.open(join(d, CHECKPOINTS_FILE), ix.checkpointsEnd, opts)
    return new Trail(opts.log, ix, records, cps, opts)
  }

  /** Records appended so far (some may still be on their way to disk). */
  get size (): number {
    return this.ix.size
  }

  /** The index, for reads: search, records, proofs. */
  get index (): TrailIndex {
    return this.ix
  }

  /**
   * Appends a record; its position is known at once, `done` resolves once it is on disk.
   * `linger`: nobody waits for the record, so its write may wait a few milliseconds to go with
   * others (`AppendLog.append`); its position and its order among the records do not change.
   * @throws HubError EGIF_ERR_TRAIL_UNAVAILABLE after close.
   */
  begin (e: TrailEvent, opts: WriteOptions = {}): { position: TrailPosition, done: Promise<void> } {
    if (this.closed) throw new HubError('EGIF_ERR_TRAIL_UNAVAILABLE', `trail ${this.log} is closed`)
    const index = this.ix.size
    // Records are in time order, so a time range is a slice: a late `at` is moved up to the last.
    let at = e.at !== undefined ? new Date(e.at).toISOString() : this.now().toISOString()
    if (at < this.ix.lastAt) at = this.ix.lastAt
    const { line, record } = encodeRecordAndFields(index, toHex(this.ix.head), at, e)
    this.ix.add(record, leafHash(line), this.nextOffset, line.length)
    this.nextOffset += line.length + 1
    this.onRecord?.(e)
    const done = this.records.append(line, opts).then(() => {
      const before = this.durable
      this.durable = Math.max(this.durable, index + 1)
      // At each multiple of N, so checkpoint sizes do not depend on how appends were batched.
      const every = this.checkpointEvery
      if (Math.floor(this.durable / every) > Math.floor(before / every)) void this.checkpoint(Math.floor(this.durable / every) * every).catch(() => {})
    })
    return { position: { log: this.log, index }, done }
  }


  /** Appends a record and waits until it is on disk (`linger`: see `begin`). */
  async append (e: TrailEvent, opts: WriteOptions = {}): Promise<TrailPosition> {
    const { position, done } = this.begin(e, opts)
    await done
    return position
  }

  /**
   * Records the configuration and the hub keys in use when they differ from the last ones the
   * trail holds (a change made while the hub was stopped shows at the next start).
   */
  async recordConfiguration (config: unknown, keyIds: readonly string[]): Promise<void> {
    const digest = 'sha256:' + createHash('sha256').update(JSON.stringify(config)).digest('hex')
    const keys = keyIds.join(' ')
    const waits: Array<Promise<unknown>> = []
    if (this.ix.lastOfType.get('config-changed')?.digest !== digest) waits.push(this.append({ type: 'config-changed', digest }))
    if (this.ix.lastOfType.get('keys-changed')?.detail !== keys) waits.push(this.append({ type: 'keys-changed', detail: keys }))
    await Promise.all(waits)
  }

  private coveredSize (): number {
    const c = this.ix.checkpoints
    return c.length === 0 ? 0 : c[c.length - 1].body.size
  }

  /** Checkpoints so far, oldest first. */
  checkpoints (): readonly StoredCheckpoint[] {
    return this.ix.checkpoints
  }

  latestCheckpoint (): StoredCheckpoint | undefined {
    return this.ix.checkpoints[this.ix.checkpoints.length - 1]
  }

  /**
   * Signs a checkpoint over the first `size` records (default: every record on disk), unless the
   * last one covers them already; resolves with the latest checkpoint. One is made at a time.
   */
  checkpoint (size?: number): Promise<StoredCheckpoint | undefined> {
    this.checkpointing = this.checkpointing.catch(() => undefined).then(async () => await this.makeCheckpoint(size ?? this.durable))
    return this.checkpointing
  }

  private async makeCheckpoint (size: number): Promise<StoredCheckpoint | undefined> {
    if (size <= this.coveredSize() && this.ix.checkpoints.length > 0) return this.latestCheckpoint()
    const body: CheckpointBody = {
      log: this.log,
      size,
      root: toHex(this.ix.tree.root(size)),
      head: size === 0 ? '0'.repeat(64) : toHex(this.ix.tree.leaf(size - 1)),
      time: this.now().toISOString()
    }
    const jws = signCheckpoint(this.opts.keys, body)
    const line: CheckpointLine = { checkpoint: jws }
    if (this.opts.tsaUrl !== undefined) {
      try {
        line.tsa = (await requestTimestamp(this.opts.tsaUrl, Buffer.from(jws, 'ascii'), { timeoutMs: this.opts.tsaTimeoutMs ?? 5000 })).toString('base64')
      } catch (err) {
        // The checkpoint still proves the records; only the independent time is missing.
        this.opts.logger?.warn({ err, log: this.log, size }, 'no time-stamp for this trail checkpoint')
      }
    }
    await this.cps.append(Buffer.from(JSON.stringify(line)))
    const stored: StoredCheckpoint = { ...line, body }
    this.ix.checkpoints.push(stored)
    return stored
  }

  /** Records matching an auditor's query, among those on disk. */
  search (q: TrailQuery): ReturnType<TrailIndex['search']> {
    return this.ix.search(q, this.durable)
  }

  /**
   * The bundle for a period (JSON Lines, see `bundle.ts`), after a checkpoint over everything on
   * disk so the whole period is proven.
   */
  async bundle (period: { from?: string, to?: string }): Promise<Generator<Buffer>> {
    await this.checkpoint()
    return bundleLines(this.ix, this.opts.keys.jwks(), period, this.now())
  }

  /** Writes a last checkpoint, then closes the files. */
  async close (): Promise<void> {
    if (this.closed) return
    clearInterval(this.timer)
    this.closed = true
    await this.records.close()
    if (this.durable > this.coveredSize()) await this.checkpoint().catch((err: unknown) => { this.opts.logger?.error({ err }, 'could not write the last trail checkpoint') })
    await this.checkpointing.catch(() => undefined)
    await this.cps.close()
    this.ix.close()
  }
}
