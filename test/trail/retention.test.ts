import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BodyArchive } from '../../src/trail/archive.js'
import { JournalStore } from '../../src/store/journal-store.js'
import { meta, record } from '../store/contract.js'
import { Trail } from '../../src/trail/trail.js'
import { verifyTrails } from '../../src/trail/verify.js'
import { KEYS, NOTE, headers, startHub } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'
import { ring, trusted } from './helpers.js'

const sha256 = (b: string | Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex')
const body = (n: number): string => `body ${n}`
const digest = (n: number): string => sha256(body(n))

t.test('expiry removes old bodies, records it, and never touches trail records', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const trail = await Trail.open(join(dir, 'trail'), { log: 'hub-1', keys, unsafeNoSync: true })
  let now = new Date('2026-03-10T12:00:00Z')
  const archive = new BodyArchive(join(dir, 'archive'), { retentionDays: 5, trail, now: () => now })
  const days = ['2026-03-01', '2026-03-02', '2026-03-08']
  for (const [n, day] of days.entries()) {
    await trail.append({ type: 'accepted', messageId: `m-${n}`, digest: digest(n), at: `${day}T09:00:00.000Z` })
    await archive.put(`${day}T09:00:00.000Z`, digest(n), Buffer.from(body(n)))
  }
  await archive.put('2026-03-01T10:00:00.000Z', sha256('another body that day'), Buffer.from('another body that day'))
  t.equal((await archive.get('2026-03-01T09:00:00.000Z', digest(0)))?.toString(), 'body 0')

  t.equal(await archive.sweep(), 3, 'two bodies of 1 March, one of 2 March')
  t.equal(await archive.get('2026-03-01T09:00:00.000Z', digest(0)), undefined)
  t.equal((await archive.get('2026-03-08T09:00:00.000Z', digest(2)))?.toString(), 'body 2', 'within retention')
  t.same(readdirSync(join(dir, 'archive')), ['2026-03-08'])
  const expired = trail.search({ limit: 1000 }).records.filter((r) => r.type === 'bodies-expired')
  t.same(expired.map((r) => [r.size, r.detail]), [[2, 'bodies received on 2026-03-01 (retention 5 days)'], [1, 'bodies received on 2026-03-02 (retention 5 days)']])
  t.same(trail.search({ messageId: 'm-0' }).records.map((r) => r.digest), [digest(0)], 'the digest stays in the trail')

  now = new Date('2026-03-11T12:00:00Z')
  t.equal(await archive.sweep(), 0, 'nothing more to expire')
  await archive.close()
  await trail.close()
  t.equal(verifyTrails([{ kind: 'dir', dir: join(dir, 'trail', 'hub-1') }], { keys: trusted(keys) }).reports[0].ok, true)

  const forever = new BodyArchive(join(dir, 'kept'), { trail })
  await forever.put('2000-01-01T00:00:00.000Z', sha256('old'), Buffer.from('old'))
  t.equal(await forever.sweep(), 0, 'retention 0 keeps bodies forever')
  await forever.close()
})

t.test('a day archived one file per body (before packs) is read and expired the same way', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const trail = await Trail.open(join(dir, 'trail'), { log: 'hub-1', keys, unsafeNoSync: true })
  mkdirSync(join(dir, 'archive', '2026-03-01'), { recursive: true })
  for (const n of [0, 1]) writeFileSync(join(dir, 'archive', '2026-03-01', digest(n).slice(7)), body(n))
  const archive = new BodyArchive(join(dir, 'archive'), { retentionDays: 5, trail, now: () => new Date('2026-03-10T12:00:00Z') })
  await archive.put('2026-03-01T23:00:00.000Z', digest(2), Buffer.from(body(2)))
  t.equal((await archive.get('2026-03-01T09:00:00.000Z', digest(1)))?.toString(), 'body 1', 'a body kept as its own file')
  t.equal((await archive.get('2026-03-01T23:00:00.000Z', digest(2)))?.toString(), 'body 2', 'and one in a pack beside it')
  t.equal(await archive.sweep(), 3)
  t.same(trail.search({ limit: 100 }).records.filter((r) => r.type === 'bodies-expired').map((r) => r.size), [3])
  t.same(readdirSync(join(dir, 'archive')), [])
  await archive.close()
  await trail.close()
})

t.test('the hub archives the exact bytes of each accepted message under its digest', async (t) => {
  const { hub, app, dataDir } = await startHub(t, { patch: (raw) => { raw.archive = { retentionDays: 30 } } })
  const res = await app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-message-id': 'arch-1', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-note' }),
    payload: NOTE('archived')
  })
  t.equal(res.statusCode, 202)
  const receipt = res.json()
  t.equal((await hub.archive.get(receipt.receivedAt, receipt.digest))?.toString(), NOTE('archived'))
  const packs = readdirSync(join(dataDir, 'archive', receipt.receivedAt.slice(0, 10)))
  t.equal(packs.length, 1, 'in the day\'s pack')
  t.match(packs[0], /^\d{8}T\d{6}Z-\d+-[0-9a-f]{8}-1\.pack$/)
})

t.test('retention reaches the copies of bodies the message store keeps', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const trail = await Trail.open(join(dir, 'trail'), { log: 'hub-1', keys, unsafeNoSync: true })
  const store = await JournalStore.open(join(dir, 'data'), { segmentBytes: 256, unsafeNoSync: true })
  const body = Buffer.from(NOTE('ส่วนบุคคล'))
  for (const id of ['a', 'b']) {
    await store.accept(meta(id, `sha256:${id}`), body, record(meta(id, `sha256:${id}`)))
    await store.addEvent('TH-A', id, { type: 'delivered', at: new Date().toISOString(), attempt: 1 })
  }
  await store.accept(meta('c', 'sha256:c'), body, record(meta('c', 'sha256:c')))
  const archive = new BodyArchive(join(dir, 'archive'), { retentionDays: 1, trail, now: () => new Date(Date.now() + 2 * 86_400_000), expireStored: async (before) => await store.expireBodies(before) })
  t.equal(await archive.sweep(), 2, 'the two delivered bodies leave the store')
  t.equal((await store.bodyOf((await store.get('TH-A', 'a'))!)).length, 0)
  t.same(await store.bodyOf((await store.get('TH-A', 'c'))!), body, 'the undelivered one stays')
  t.match(trail.search({ limit: 100 }).records.filter((r) => r.type === 'bodies-expired').map((r) => r.detail), [/message-store bodies of settled messages received before .* \(retention 1 days\)/], 'the expiry is in the trail')
  await store.close()
  await trail.close()
})
