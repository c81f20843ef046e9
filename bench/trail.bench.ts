import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, openSync, writeSync, fdatasyncSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateHubKey } from '../src/crypto/hub-key.js'
import { HubKeyRing } from '../src/crypto/jwks.js'
import { Trail } from '../src/trail/trail.js'
import { verifyTrails } from '../src/trail/verify.js'

/**
 * `node --import tsx bench/trail.bench.ts [--quick]`:
 *   verify     records/s of the offline verifier over a trail of N records (chain, Merkle roots,
 *              checkpoint signatures), beside the baseline of one SHA-256 per record over the same
 *              bytes (the least any verifier must do)
 *   append     records/s appended with fsync and group commit, 64 appenders at once, beside the
 *              baseline of one write + fdatasync per record (what appending without group commit
 *              costs) and one per batch
 */
const quick = process.argv.includes('--quick')
const N = quick ? 100_000 : 500_000
const APPENDS = quick ? 20_000 : 100_000
const dir = mkdtempSync(join(tmpdir(), 'egif-trail-bench-'))
const keys = new HubKeyRing(generateHubKey('ES256'))
const fmt = (n: number): string => Math.round(n).toLocaleString('en').padStart(12)

try {
  // --- a trail of N records (no fsync while building; it is not what is measured here) ---------
  process.stderr.write(`· writing ${N.toLocaleString('en')} records…\n`)
  const build = await Trail.open(dir, { log: 'bench', keys, checkpointEveryRecords: 1000, checkpointEveryMs: 3_600_000, unsafeNoSync: true })
  const waits: Array<Promise<void>> = []
  for (let i = 0; i < N; i++) {
    waits.push(build.begin({ type: 'accepted', messageId: `msg-${i}`, sender: 'TH-MFA', receiver: 'TH-OCSC', documentType: 'gov-letter', documentVersion: '1.0', digest: 'sha256:' + createHash('sha256').update(String(i)).digest('hex'), size: 5120 }).done)
    if (waits.length === 5000) await Promise.all(waits.splice(0))
  }
  await Promise.all(waits)
  await build.close()

  const file = join(dir, 'bench', 'records.jsonl')
  const bytes = readFileSync(file)
  const lines: Buffer[] = []
  for (let s = 0, nl = bytes.indexOf(10); nl !== -1; s = nl + 1, nl = bytes.indexOf(10, s)) lines.push(bytes.subarray(s, nl))
  let t0 = process.hrtime.bigint()
  for (const l of lines) createHash('sha256').update(l).digest()
  const baseline = lines.length / (Number(process.hrtime.bigint() - t0) / 1e9)

  t0 = process.hrtime.bigint()
  const { reports } = verifyTrails([{ kind: 'dir', dir: join(dir, 'bench') }], { keys: keys.all.map((k) => ({ kid: k.kid, publicKey: k.publicKey })) })
  const verifyRate = N / (Number(process.hrtime.bigint() - t0) / 1e9)
  if (!reports[0].ok) throw new Error('the bench trail does not verify: ' + JSON.stringify(reports[0].problems.slice(0, 3)))

  // --- appends with fsync ------------------------------------------------------------------------
  const adir = join(dir, 'appends')
  const trail = await Trail.open(adir, { log: 'bench', keys, checkpointEveryRecords: 1000 })
  t0 = process.hrtime.bigint()
  let next = 0
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < APPENDS) {
      const i = next++
      await trail.append({ type: 'delivered', messageId: `msg-${i}`, sender: 'TH-MFA', receiver: 'TH-OCSC', attempt: 1 })
    }
  }))
  const appendRate = APPENDS / (Number(process.hrtime.bigint() - t0) / 1e9)
  await trail.close()

  const fd = openSync(join(dir, 'raw.log'), 'a')
  const line = lines[0]
  const SYNCS = quick ? 200 : 1000
  t0 = process.hrtime.bigint()
  for (let i = 0; i < SYNCS; i++) { writeSync(fd, line); fdatasyncSync(fd) }
  const perRecordSync = SYNCS / (Number(process.hrtime.bigint() - t0) / 1e9)
  closeSync(fd)

  process.stdout.write([
    '',
    `trail, ${N.toLocaleString('en')} records of ~${Math.round(bytes.length / N)} bytes (${reports[0].checkpoints} checkpoints)`,
    `  verify (chain + Merkle + signatures)     ${fmt(verifyRate)} records/s`,
    `  baseline: one SHA-256 per record          ${fmt(baseline)} records/s`,
    `appends with fsync, 64 concurrent appenders, ${APPENDS.toLocaleString('en')} records`,
    `  Trail.append (group commit)              ${fmt(appendRate)} records/s`,
    `  baseline: write + fdatasync per record    ${fmt(perRecordSync)} records/s`,
    ''
  ].join('\n'))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
