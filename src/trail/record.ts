import { RECORD_FIELDS, TRAIL_EVENT_TYPES, type TrailEvent, type TrailRecord } from './event.js'

const TYPES: ReadonlySet<string> = new Set(TRAIL_EVENT_TYPES)
const FIELDS: ReadonlySet<string> = new Set(RECORD_FIELDS)
const NUMBERS: ReadonlySet<string> = new Set(['i', 'size', 'attempt', 'status'])
/** Long free text could smuggle a body into the trail: detail is cut. */
const MAX_DETAIL = 512
const MAX_FIELD = 256

/**
 * One record as one line of JSON, members in a fixed order, `i` first (so a bundle tells a record
 * line from any other by its first bytes). The hash is over exactly these bytes, so a verifier
 * never re-encodes anything: it hashes what it reads.
 */
export function encodeRecord (i: number, prev: string, at: string, e: TrailEvent): Buffer {
  return encodeRecordAndFields(i, prev, at, e).line
}

/** `encodeRecord`, with the record the line holds (what decoding the line would give). */
export function encodeRecordAndFields (i: number, prev: string, at: string, e: TrailEvent): { line: Buffer, record: TrailRecord } {
  const o: Record<string, unknown> = { i, prev, at, type: e.type }
  for (const f of RECORD_FIELDS) {
    if (f === 'i' || f === 'prev' || f === 'at' || f === 'type') continue
    const v = e[f as keyof TrailEvent]
    if (v === undefined) continue
    o[f] = typeof v === 'string' ? v.slice(0, f === 'detail' ? MAX_DETAIL : MAX_FIELD) : v
  }
  return { line: Buffer.from(JSON.stringify(o), 'utf8'), record: o as unknown as TrailRecord }
}

/**
 * Parses and checks one record line. Throws an Error saying what is wrong; the verifier names
 * the record.
 */
export function decodeRecord (line: Uint8Array): TrailRecord {
  let o: unknown
  try {
    o = JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'))
  } catch {
    throw new Error('not valid JSON')
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not a JSON object')
  const r = o as Record<string, unknown>
  for (const k of Object.keys(r)) {
    if (!FIELDS.has(k)) throw new Error(`unknown member "${k}"`)
    const v = r[k]
    if (NUMBERS.has(k) ? !Number.isSafeInteger(v) || (v as number) < 0 : typeof v !== 'string') throw new Error(`member "${k}" has the wrong type`)
  }
  if (typeof r.i !== 'number') throw new Error('no index "i"')
  if (typeof r.prev !== 'string' || !/^[0-9a-f]{64}$/.test(r.prev)) throw new Error('"prev" is not 64 hex digits')
  if (typeof r.at !== 'string' || Number.isNaN(Date.parse(r.at))) throw new Error('"at" is not a time')
  if (typeof r.type !== 'string' || !TYPES.has(r.type)) throw new Error(`unknown type "${String(r.type)}"`)
  return r as unknown as TrailRecord
}

/** True when a line of a bundle is a record (records start with their index). */
export function isRecordLine (line: Uint8Array): boolean {
  return line.length > 6 && line[0] === 0x7b && line[1] === 0x22 && line[2] === 0x69 && line[3] === 0x22 && line[4] === 0x3a
}
