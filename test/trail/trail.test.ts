import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Trail } from '../../src/trail/trail.js'
import { verifyCheckpoint } from '../../src/trail/checkpoint.js'
import { leafHash } from '../../src/trail/hash.js'
import { verifyConsistency, verifyInclusion } from '../../src/trail/merkle.js'
import { verifyTrails } from '../../src/trail/verify.js'
import { tmpDir } from '../helpers/tmp.js'
import { lifeOf, ring, trusted, writeTrail } from './helpers.js'

t.test('records are chained, numbered, and checkpointed every N records and on close', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  await writeTrail(dir, keys, 7, 5)
  const lines = readFileSync(join(dir, 'hub-1', 'records.jsonl'), 'utf8').trimEnd().split('\n')
  t.equal(lines.length, 21)
  const first = JSON.parse(lines[0])
  t.same(Object.keys(first).slice(0, 4), ['i', 'prev', 'at', 'type'])
  t.equal(first.prev, '0'.repeat(64))
  t.equal(JSON.parse(lines[1]).prev, leafHash(Buffer.from(lines[0])).toString('hex'))
  t.notMatch(lines.join('\n'), /body/, 'no bodies, only digests')
  const cps = readFileSync(join(dir, 'hub-1', 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n').map((l) => verifyCheckpoint(JSON.parse(l).checkpoint, trusted(keys)))
  t.same(cps.map((c) => c.size), [5, 10, 15, 20, 21], 'every 5 records, and the rest on close')
  t.ok(cps.every((c) => c.log === 'hub-1'))
})

t.test('a checkpoint is made after checkpointEveryMs even with few records', async (t) => {
  const dir = tmpDir(t)
  const trail = await Trail.open(dir, { log: 'timed', keys: ring(), checkpointEveryRecords: 1000, checkpointEveryMs: 20, unsafeNoSync: true })
  t.teardown(async () => { await trail.close() })
  await trail.append({ type: 'started' })
  while (trail.latestCheckpoint() === undefined) await new Promise((r) => setTimeout(r, 10))
  t.equal(trail.latestCheckpoint()!.body.size, 1)
})

t.test('reopening continues the chain; proofs from the index verify', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  await writeTrail(dir, keys, 4, 5)
  const trail = await Trail.open(dir, { log: 'hub-1', keys, checkpointEveryRecords: 5, unsafeNoSync: true })
  const pos = await trail.append({ type: 'started', detail: 'again' })
  t.same(pos, { log: 'hub-1', index: 12 })
  const cp = (await trail.checkpoint())!
  t.equal(cp.body.size, 13)
  const tree = trail.index.tree
  const root = Buffer.from(cp.body.root, 'hex')
  for (let i = 0; i < 13; i++) {
    t.ok(verifyInclusion(leafHash(trail.index.line(i)), i, 13, tree.inclusionProof(i, 13), root), `record ${i}`)
  }
  const old = trail.checkpoints()[0].body
  t.ok(verifyConsistency(old.size, 13, tree.consistencyProof(old.size, 13), Buffer.from(old.root, 'hex'), root))
  await trail.close()
  const { reports } = verifyTrails([{ kind: 'dir', dir: join(dir, 'hub-1') }], { keys: trusted(keys) })
  t.equal(reports[0].ok, true, JSON.stringify(reports[0].problems))
  t.equal(reports[0].covered, 13)
})

t.test('search by message, participant, document type and time', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const trail = await Trail.open(dir, { log: 'hub-1', keys, unsafeNoSync: true, now: () => new Date('2026-01-01T00:00:00Z') })
  t.teardown(async () => { await trail.close() })
  for (let n = 0; n < 6; n++) for (const e of lifeOf(n)) await trail.append({ ...e, at: `2026-01-0${n + 1}T10:00:00.000Z` })
  await trail.append({ type: 'rejected', claimedSender: 'TH-X', caller: 'TH-A', code: 'EGIF_ERR_SENDER_MISMATCH', status: 403, at: '2026-01-07T00:00:00.000Z' })
  t.same(trail.search({ messageId: 'm-2' }).records.map((r) => r.type), ['accepted', 'in-mailbox', 'acked'])
  t.same(trail.search({ participant: 'TH-X' }).records.map((r) => r.code), ['EGIF_ERR_SENDER_MISMATCH'])
  t.equal(trail.search({ documentType: 'test-order', limit: 1000 }).records.length, 9)
  t.same(trail.search({ from: '2026-01-02T00:00:00.000Z', to: '2026-01-03T23:59:59.999Z' }).records.map((r) => r.messageId), ['m-1', 'm-1', 'm-1', 'm-2', 'm-2', 'm-2'])
  const page = trail.search({ participant: 'TH-B', limit: 4 })
  t.equal(page.records.length, 4)
  t.equal(trail.search({ participant: 'TH-B', limit: 1000, after: page.next }).records[0].i, page.records[3].i + 1)
  t.same(trail.search({ messageId: 'm-1', documentType: 'test-note' }).records, [], 'all filters must match')
  const late = await trail.append({ type: 'started', at: '2025-01-01T00:00:00.000Z' })
  t.equal(trail.index.record(late.index).at, '2026-01-07T00:00:00.000Z', 'time never goes back')
})

t.test('a torn last line from a crash is cut off at open; a bad old record stops the open', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  await writeTrail(dir, keys, 2, 100)
  const file = join(dir, 'hub-1', 'records.jsonl')
  const { appendFileSync, writeFileSync } = await import('node:fs')
  appendFileSync(file, '{"i":6,"prev":"00')
  const trail = await Trail.open(dir, { log: 'hub-1', keys, unsafeNoSync: true })
  t.equal(trail.size, 6)
  await trail.append({ type: 'started' })
  await trail.close()
  t.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length, 7)
  const text = readFileSync(file, 'utf8')
  writeFileSync(file, text.replace('"m-0"', '"m-9"'))
  await t.rejects(Trail.open(dir, { log: 'hub-1', keys, unsafeNoSync: true }), { code: 'EGIF_ERR_TRAIL_CORRUPT' })
})

t.test('concurrent appends are numbered in call order and each waits for the disk', async (t) => {
  const dir = tmpDir(t)
  const trail = await Trail.open(dir, { log: 'hub-1', keys: ring() })
  const positions = await Promise.all(Array.from({ length: 200 }, (_, n) => trail.append({ type: 'accepted', messageId: `c-${n}` })))
  t.same(positions.map((p) => p.index), Array.from({ length: 200 }, (_, n) => n))
  await trail.close()
  const lines = readFileSync(join(dir, 'hub-1', 'records.jsonl'), 'utf8').trimEnd().split('\n')
  t.same(lines.map((l) => JSON.parse(l).messageId), Array.from({ length: 200 }, (_, n) => `c-${n}`))
})

t.test('a lingering record keeps its place in the chain and is written with the next record someone waits for', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const trail = await Trail.open(dir, { log: 'linger', keys, lingerMs: 3_600_000 })
  const file = join(dir, 'linger', 'records.jsonl')
  let written = false
  const lazy = trail.append({ type: 'delivered', messageId: 'm-1' }, { linger: true }).then((p) => { written = true; return p })
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
  t.notOk(written, 'not written on its own')
  t.equal(readFileSync(file, 'utf8'), '', 'nothing on disk yet')
  const accepted = await trail.append({ type: 'accepted', messageId: 'm-2' })
  t.ok(written, 'on disk by the time the next record is')
  t.equal((await lazy).index, accepted.index - 1, 'its position, given first, stays first')
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string })
  t.same(lines.map((l) => l.type), ['delivered', 'accepted'])
  trail.append({ type: 'delivered', messageId: 'm-2' }, { linger: true }).catch(() => {})
  await trail.close()
  t.same(readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type), ['delivered', 'accepted', 'delivered'], 'closing writes what lingers')
  const { reports } = verifyTrails([{ kind: 'dir', dir: join(dir, 'linger') }], { keys: trusted(keys) })
  t.equal(reports[0].ok, true, JSON.stringify(reports[0].problems))
  t.equal(reports[0].covered, 3, 'the chain and the last checkpoint cover all three')
})
