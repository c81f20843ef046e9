import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { verifyTrails, type LogReport } from '../../src/trail/verify.js'
import { tmpDir } from '../helpers/tmp.js'
import { ring, trusted, writeTrail } from './helpers.js'

// 30 messages, 90 records, a checkpoint every 10 records (sizes 10, 20, …, 90).
const keys = ring()

async function fresh (t: Test): Promise<{ dir: string, records: string[], cps: string[], save: (r: string[], c?: string[]) => void }> {
  const base = tmpDir(t)
  await writeTrail(base, keys, 30, 10)
  const dir = join(base, 'hub-1')
  const records = readFileSync(join(dir, 'records.jsonl'), 'utf8').trimEnd().split('\n')
  const cps = readFileSync(join(dir, 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n')
  return {
    dir,
    records,
    cps,
    save: (r, c = cps) => {
      writeFileSync(join(dir, 'records.jsonl'), r.map((l) => l + '\n').join(''))
      writeFileSync(join(dir, 'checkpoints.jsonl'), c.map((l) => l + '\n').join(''))
    }
  }
}

function check (dir: string, k = trusted(keys)): LogReport {
  return verifyTrails([{ kind: 'dir', dir }], { keys: k }).reports[0]
}

t.test('an untouched trail verifies', async (t) => {
  const { dir } = await fresh(t)
  const r = check(dir)
  t.equal(r.ok, true, JSON.stringify(r.problems))
  t.same([r.start, r.end, r.covered, r.checkpoints], [0, 90, 90, 9])
  t.equal(r.firstBad, undefined)
})

for (const at of [0, 37, 40, 88, 89]) {
  t.test(`one byte changed in record ${at} is found and named`, async (t) => {
    const { dir, records, save } = await fresh(t)
    // One byte: the last letter of the receiver's id.
    const changed = records[at].replace('"TH-B"', '"TH-C"')
    t.equal(Buffer.compare(Buffer.from(changed), Buffer.from(records[at])) !== 0 && changed.length === records[at].length, true)
    records[at] = changed
    save(records)
    const r = check(dir)
    t.equal(r.ok, false)
    t.equal(r.firstBad?.index, at, r.firstBad?.reason ?? 'not located')
  })
}

t.test('a change to a record\'s own prev member names that record, not the one before', async (t) => {
  const { dir, records, save } = await fresh(t)
  const o = JSON.parse(records[50])
  o.prev = o.prev.replace(/^./, (c: string) => c === 'a' ? 'b' : 'a')
  records[50] = JSON.stringify(o)
  save(records)
  t.equal(check(dir).firstBad?.index, 50)
})

t.test('a deleted record is found and named', async (t) => {
  const { dir, records, save } = await fresh(t)
  records.splice(42, 1)
  save(records)
  const r = check(dir)
  t.equal(r.ok, false)
  t.equal(r.firstBad?.index, 42)
  t.match(r.firstBad?.reason, /record 42 is missing/)
})

t.test('two records swapped are found and named', async (t) => {
  const { dir, records, save } = await fresh(t)
  ;[records[60], records[61]] = [records[61], records[60]]
  save(records)
  const r = check(dir)
  t.equal(r.ok, false)
  t.equal(r.firstBad?.index, 60)
})

t.test('a truncated tail is found and named', async (t) => {
  const { dir, records, save } = await fresh(t)
  save(records.slice(0, 75))
  const r = check(dir)
  t.equal(r.ok, false)
  t.equal(r.firstBad?.index, 75)
  t.match(r.firstBad?.reason, /75\.\.89 are missing/)
})

t.test('a checkpoint replaced by an edited one fails its signature', async (t) => {
  const { dir, records, cps, save } = await fresh(t)
  const line = JSON.parse(cps[3])
  const [h, p, s] = line.checkpoint.split('.')
  const body = JSON.parse(Buffer.from(p, 'base64url').toString())
  body.root = 'f'.repeat(64)
  cps[3] = JSON.stringify({ checkpoint: [h, Buffer.from(JSON.stringify(body)).toString('base64url'), s].join('.') })
  save(records, cps)
  const r = check(dir)
  t.equal(r.ok, false)
  t.match(r.problems.map((x) => x.message).join('\n'), /checkpoint 4 \(size 40\) is not signed by a trusted hub key/)
  t.same(r.problems.map((x) => x.checkpoint), [40])
})

t.test('a checkpoint replaced by one of another trail signed with the same key is found', async (t) => {
  const { dir, records, cps, save } = await fresh(t)
  const other = tmpDir(t)
  await writeTrail(other, keys, 31, 10)
  const foreign = readFileSync(join(other, 'hub-1', 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n')
  // Same log name, same key, same size — but not these records: only the roots differ.
  const replacement = foreign.find((l) => JSON.stringify(l).length > 0 && JSON.parse(Buffer.from(JSON.parse(l).checkpoint.split('.')[1], 'base64url').toString()).size === 90)!
  cps[8] = replacement
  save(records, cps)
  const r = check(dir)
  t.equal(r.ok, false)
  t.match(r.problems.map((x) => x.message).join('\n'), /do not give the root signed by the checkpoint of size 90/)
})

t.test('a trail re-signed with another key after an edit is refused: no checkpoint is trusted', async (t) => {
  const base = tmpDir(t)
  const forger = ring()
  // The forger rebuilds the whole trail (records, chain, checkpoints) with a key of their own.
  await writeTrail(base, forger, 30, 10)
  const r = check(join(base, 'hub-1'))
  t.equal(r.ok, false)
  t.equal(r.checkpoints, 0)
  t.equal(r.covered, 0)
  t.equal(r.problems.filter((p) => /not signed by a trusted hub key/.test(p.message)).length, 9)
  t.equal(check(join(base, 'hub-1'), trusted(forger)).ok, true, 'the same trail verifies with the forger\'s key: the certificate is what the auditor trusts')
})

t.test('a period bundle: a changed record is named by its index in the whole trail', async (t) => {
  const { dir } = await fresh(t)
  const { TrailIndex } = await import('../../src/trail/trail-index.js')
  const { bundleLines } = await import('../../src/trail/bundle.js')
  const ix = TrailIndex.load(dir, 'hub-1')
  const from = ix.record(45).at
  const lines = [...bundleLines(ix, { keys: [] }, { from }, new Date())].map((b) => b.toString())
  ix.close()
  const file = join(dir, '..', 'period.jsonl')
  writeFileSync(file, lines.join(''))
  const ok = verifyTrails([{ kind: 'bundle', file }], { keys: trusted(keys) }).reports[0]
  t.equal(ok.ok, true, JSON.stringify(ok.problems))
  t.ok(ok.start > 0 && ok.start <= 45, `starts just before the period (${ok.start})`)
  const k = lines.findIndex((l) => l.startsWith('{"i":60,'))
  lines[k] = lines[k].replace('"TH-A"', '"TH-Q"')
  writeFileSync(file, lines.join(''))
  const bad = verifyTrails([{ kind: 'bundle', file }], { keys: trusted(keys) }).reports[0]
  t.equal(bad.ok, false)
  t.equal(bad.firstBad?.index, 60)
})
