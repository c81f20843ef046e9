import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpuPerOp } from './cpu-per-op.js'

/**
 * What the machine gave while the bench ran, so that two runs (or two machines) can be told apart
 * from two versions of the hub: a few fixed operations timed in CPU µs just before each row, and
 * the share of the machine's CPU time the hypervisor took for other guests (steal) over the run.
 * A row whose calibration is slower than another's, or a run with steal, had less machine under it.
 */
export interface Calibration {
  /** One ES256 signature of 32 bytes (OpenSSL, no JavaScript to speak of). */
  es256SignUs: number
  /** SHA-256 of 5 KB. */
  sha256Of5KbUs: number
  /** `JSON.parse` and `JSON.stringify` of a 2 KB object (V8's own code). */
  json2KbUs: number
}

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const data32 = Buffer.alloc(32, 7)
const data5k = Buffer.alloc(5 * 1024, 'a')
const json2k = JSON.stringify(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`field${i}`, `value number ${i} of the calibration`])))

/**
 * The calibration operations' CPU µs each, the median of 6 rounds of 20 ms (under half a second
 * in all; it runs before each of the nine rows).
 * The median, not the least: the point is how fast the machine was at that moment, and on a shared
 * host the same operation costs up to half as much again from one second to the next.
 */
export function calibrate (): Calibration {
  const [es256SignUs, sha256Of5KbUs, json2KbUs] = cpuPerOp([
    ['ES256 sign', () => sign('sha256', data32, { key, dsaEncoding: 'ieee-p1363' })],
    ['SHA-256 of 5 KB', () => createHash('sha256').update(data5k).digest()],
    ['JSON 2 KB', () => JSON.stringify(JSON.parse(json2k))]
  ], { rounds: 6, roundMs: 20, statistic: 'median' })
  return { es256SignUs, sha256Of5KbUs, json2KbUs }
}

/** The machine's CPU time so far, in clock ticks: in all, and taken by the hypervisor (steal). */
export interface CpuTicks { total: number, steal: number }

/** From `/proc/stat`; zeros where there is none (not Linux). */
export function cpuTicks (): CpuTicks {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number)
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 }
  } catch {
    return { total: 0, steal: 0 }
  }
}

/** Steal between two readings, as a share of the machine's CPU time; 0 when nothing was read. */
export function stealShare (a: CpuTicks, b: CpuTicks): number {
  const total = b.total - a.total
  return total > 0 ? (b.steal - a.steal) / total : 0
}

/** The calibration in one line, for the report. */
export function describeCalibration (c: Calibration): string {
  return `ES256 sign ${c.es256SignUs.toFixed(1)} µs, SHA-256 of 5 KB ${c.sha256Of5KbUs.toFixed(1)} µs, JSON 2 KB ${c.json2KbUs.toFixed(1)} µs`
}
