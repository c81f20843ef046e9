import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { X509Certificate } from 'node:crypto'
import type { VerificationKey } from '../crypto/jws.js'
import type { TrailRecord } from './event.js'
import { fromHex, GENESIS, leafHash, toHex } from './hash.js'
import { CompactRange } from './merkle.js'
import { decodeRecord, isRecordLine } from './record.js'
import { forEachLine } from './lines.js'
import { peekCheckpoint, verifyCheckpoint, type CheckpointBody, type CheckpointLine } from './checkpoint.js'
import { BUNDLE_FORMAT, type BundleHeader } from './bundle.js'
import { CHECKPOINTS_FILE, RECORDS_FILE } from './files.js'
import { verifyTimestampToken } from './tsa.js'

/** One trail to check: a bundle file, or a log folder (`records.jsonl` + `checkpoints.jsonl`). */
export type TrailSource = { kind: 'bundle', file: string } | { kind: 'dir', dir: string }

export interface VerifyOptions {
  /** The hub keys the auditor trusts (from `--cert`): checkpoints must be signed by one of them. */
  keys: readonly VerificationKey[]
  /** Certificates of trusted time-stamping authorities; when given, every checkpoint must carry a token signed by one of them. */
  tsaCerts?: readonly X509Certificate[]
  /** Keep every message's events (for the history across logs). Default false. */
  history?: boolean
  /** Called now and then with records checked so far and bytes read of the records file. */
  onProgress?: (p: { log: string, records: number, bytes: number, total: number }) => void
}

export interface Problem {
  /** Index of the record concerned, when one is. */
  index?: number
  /** Size of the checkpoint concerned, when one is. */
  checkpoint?: number
  message: string
}

export interface LogReport {
  log: string
  source: string
  /** Index of the first record checked and the index after the last. */
  start: number
  end: number
  checkpoints: number
  /** Records proven by a valid checkpoint whose root matched. */
  covered: number
  /** Checkpoints that carried an RFC 3161 token that verified. */
  timestamped: number
  problems: Problem[]
  warnings: string[]
  /** The first record that is wrong (changed, missing, out of place), when one is. */
  firstBad?: { index: number, reason: string }
  ok: boolean
}

export interface HistoryEntry extends TrailRecord {
  log: string
}

interface ParsedCheckpoint {
  n: number
  line: CheckpointLine
  body?: CheckpointBody
  valid: boolean
}

/** Verifies each source and, on request, gathers every message's events across them. */
export function verifyTrails (sources: readonly TrailSource[], opts: VerifyOptions): { reports: LogReport[], history: Map<string, HistoryEntry[]> } {
  const history = new Map<string, HistoryEntry[]>()
  const reports = sources.map((s) => verifyOne(s, opts, history))
  for (const events of history.values()) events.sort((a, b) => a.at < b.at ? -1 : a.at > b.at ? 1 : 0)
  return { reports, history }
}

function verifyOne (src: TrailSource, opts: VerifyOptions, history: Map<string, HistoryEntry[]>): LogReport {
  // The checkpoints are needed before the records stream by; in a bundle they follow the records.
  let header: BundleHeader | undefined
  const cpLines: CheckpointLine[] = []
  const recordsFile = src.kind === 'bundle' ? src.file : join(src.dir, RECORDS_FILE)
  const report: LogReport = { log: '', source: src.kind === 'bundle' ? src.file : src.dir, start: 0, end: 0, checkpoints: 0, covered: 0, timestamped: 0, problems: [], warnings: [], ok: false }
  const cpLine = (line: Buffer, n: number): void => {
    try {
      cpLines.push(JSON.parse(line.toString('utf8')) as CheckpointLine)
    } catch {
      report.problems.push({ message: `checkpoint line ${n + 1} is not JSON` })
    }
  }
  if (src.kind === 'bundle') {
    let n = 0
    forEachLine(src.file, (line) => {
      if (isRecordLine(line)) return
      if (header === undefined) {
        header = JSON.parse(line.toString('utf8')) as BundleHeader
        if (header.format !== BUNDLE_FORMAT) throw new Error(`${src.file} is not a trail bundle (${BUNDLE_FORMAT})`)
      } else {
        cpLine(line, n++)
      }
    })
    if (header === undefined) throw new Error(`${src.file} is empty`)
  } else {
    let n = 0
    if (existsSync(join(src.dir, CHECKPOINTS_FILE))) forEachLine(join(src.dir, CHECKPOINTS_FILE), (line) => { cpLine(line, n++) })
  }

  const cps: ParsedCheckpoint[] = cpLines.map((line, n) => ({ n, line, valid: false }))
  for (const c of cps) {
    try {
      c.body = peekCheckpoint(String(c.line.checkpoint))
    } catch (err) {
      report.problems.push({ message: `checkpoint ${c.n + 1} is malformed: ${(err as Error).message}` })
    }
  }
  report.log = header?.log ?? cps.find((c) => c.body !== undefined)?.body?.log ?? src.kind
  const log = report.log
  for (const c of cps) {
    if (c.body === undefined) continue
    const where = { checkpoint: c.body.size }
    try {
      verifyCheckpoint(String(c.line.checkpoint), opts.keys)
    } catch (err) {
      report.problems.push({ ...where, message: `checkpoint ${c.n + 1} (size ${c.body.size}) is not signed by a trusted hub key: ${(err as Error).message}` })
      continue
    }
    if (c.body.log !== log) {
      report.problems.push({ ...where, message: `checkpoint ${c.n + 1} (size ${c.body.size}) belongs to log ${c.body.log}, not ${log}` })
      continue
    }
    c.valid = true
    if (c.line.tsa !== undefined) {
      try {
        verifyTimestampToken(Buffer.from(c.line.tsa, 'base64'), Buffer.from(String(c.line.checkpoint), 'ascii'), { trusted: opts.tsaCerts })
        report.timestamped++
      } catch (err) {
        report.problems.push({ ...where, message: `checkpoint ${c.n + 1} (size ${c.body.size}): the time-stamp token does not verify: ${(err as Error).message}` })
      }
    } else if (opts.tsaCerts !== undefined && opts.tsaCerts.length > 0) {
      report.problems.push({ ...where, message: `checkpoint ${c.n + 1} (size ${c.body.size}) has no time-stamp token` })
    }
  }
  const valid = cps.filter((c) => c.valid)
  report.checkpoints = valid.length
  const bySize = new Map<number, CheckpointBody[]>()
  for (const c of valid) {
    const l = bySize.get(c.body!.size) ?? []
    if (l.length > 0 && l[0].root !== c.body!.root) report.problems.push({ checkpoint: c.body!.size, message: `two signed checkpoints of size ${c.body!.size} have different roots: the hub showed two versions of its trail` })
    l.push(c.body!)
    bySize.set(c.body!.size, l)
  }
  for (let i = 1; i < valid.length; i++) {
    if (valid[i].body!.size < valid[i - 1].body!.size) report.warnings.push(`checkpoint ${valid[i].n + 1} is smaller than the one before it`)
  }
  const maxSize = Math.max(0, ...valid.map((c) => c.body!.size))

  // --- the records -----------------------------------------------------------------------------
  const start = header?.start ?? 0
  let position = start
  let prevLeaf = header !== undefined ? fromHex(header.prev, 'the bundle prev') : GENESIS
  let range: CompactRange
  try {
    range = new CompactRange((header?.frontier ?? []).map((h) => fromHex(h, 'a frontier hash')), start)
  } catch (err) {
    report.problems.push({ message: `the bundle header is inconsistent: ${(err as Error).message}` })
    range = new CompactRange()
  }
  const bad: Array<{ index: number, reason: string }> = []
  const breaks = new Set<number>()
  /** Ranges whose root is wrong; named by their first record only when nothing in them is located. */
  const unlocated: Array<{ lo: number, hi: number }> = []
  let lastGood = start
  let lastAt = ''
  let outOfPlace = 0
  let firstRecordAt: string | undefined
  let lastRecordAt: string | undefined

  // A broken link between p−1 and p alone means record p−1 changed; two links in a row (p and
  // p+1) mean record p changed (its own `prev` member, or it was replaced).
  const chainBreak = (p: number): void => {
    if (breaks.has(p)) return
    breaks.add(p)
  }
  const checkAt = (size: number): void => {
    for (const body of bySize.get(size) ?? []) {
      if (size > 0 && body.head !== toHex(prevLeaf)) chainBreak(size)
      if (body.root !== toHex(range.root())) {
        report.problems.push({ checkpoint: size, message: `the records do not give the root signed by the checkpoint of size ${size}: a record in ${lastGood}..${size - 1} was changed, removed or inserted` })
        unlocated.push({ lo: lastGood, hi: size })
      } else {
        lastGood = size
        report.covered = size
      }
    }
  }
  checkAt(start)
  forEachLine(recordsFile, (line) => {
    if (!isRecordLine(line) && src.kind === 'bundle') return
    const leaf = leafHash(line)
    let rec: TrailRecord | undefined
    try {
      rec = decodeRecord(line)
    } catch (err) {
      bad.push({ index: position, reason: `record ${position} cannot be read: ${(err as Error).message}` })
      report.problems.push({ index: position, message: `record ${position} cannot be read: ${(err as Error).message}` })
    }
    if (rec !== undefined) {
      firstRecordAt ??= rec.at
      lastRecordAt = rec.at
      if (rec.i !== position) {
        if (outOfPlace++ === 0) {
          const reason = rec.i > position ? `record ${position} is missing or out of place (found record ${rec.i} in its place)` : `record ${rec.i} appears again or out of place at position ${position}`
          bad.push({ index: position, reason })
          report.problems.push({ index: position, message: reason })
        }
      } else if (rec.prev !== toHex(prevLeaf)) {
        chainBreak(position)
      }
      if (rec.at < lastAt) report.problems.push({ index: position, message: `record ${position} is earlier (${rec.at}) than the record before it (${lastAt})` })
      lastAt = rec.at
      if (opts.history === true && rec.messageId !== undefined) {
        const l = history.get(rec.messageId) ?? []
        l.push({ ...rec, log })
        history.set(rec.messageId, l)
      }
    }
    range.append(leaf)
    prevLeaf = leaf
    position++
    checkAt(position)
  }, opts.onProgress === undefined ? undefined : (bytes, total) => { opts.onProgress!({ log, records: position - start, bytes, total }) })
  if (outOfPlace > 1) report.problems.push({ message: `${outOfPlace - 1} more records are out of place after the first` })
  const sortedBreaks = [...breaks].sort((a, b) => a - b)
  for (let k = 0; k < sortedBreaks.length; k++) {
    const p = sortedBreaks[k]
    if (sortedBreaks[k + 1] === p + 1) {
      bad.push({ index: p, reason: `record ${p} was changed: it neither follows record ${p - 1} nor is followed by record ${p + 1}` })
      report.problems.push({ index: p, message: `record ${p} was changed (the hash chain breaks on both sides of it)` })
      k++
    } else {
      bad.push({ index: p - 1, reason: `record ${p - 1} was changed: its hash is not the one the next link names` })
      report.problems.push({ index: p - 1, message: `record ${p - 1} was changed (its hash no longer matches the "prev" of record ${p} or the signed head)` })
    }
  }
  for (const u of unlocated) {
    if (!bad.some((b) => b.index >= u.lo && b.index < u.hi)) bad.push({ index: u.lo, reason: `the Merkle root at size ${u.hi} differs: a record in ${u.lo}..${u.hi - 1} was changed` })
  }
  const expectedEnd = Math.max(maxSize, header?.end ?? 0)
  if (position < expectedEnd) {
    bad.push({ index: position, reason: `records ${position}..${expectedEnd - 1} are missing (the trail ends early)` })
    report.problems.push({ index: position, message: `records ${position}..${expectedEnd - 1} are missing: a signed checkpoint covers ${expectedEnd} records, the trail has ${position}` })
  }
  if (position > report.covered) report.warnings.push(`records ${report.covered}..${position - 1} are not yet covered by a checkpoint (they were appended after the last one)`)
  if (header?.from !== undefined && start > 0 && firstRecordAt !== undefined && firstRecordAt >= header.from) {
    report.warnings.push(`the bundle's first record is not before the period (${header.from}): records at the start of the period may be left out`)
  }
  if (header?.to !== undefined && lastRecordAt !== undefined && lastRecordAt <= header.to) {
    const last = valid[valid.length - 1]?.body?.time
    if (last === undefined || last < header.to) report.warnings.push(`the period ends (${header.to}) after the last checkpoint (${last ?? 'none'}): it was exported before the period was over`)
  }
  report.start = start
  report.end = position
  bad.sort((a, b) => a.index - b.index)
  if (bad.length > 0) report.firstBad = bad[0]
  report.ok = report.problems.length === 0
  return report
}
