import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { BodyArchive } from '../../src/trail/archive.js'
import { tmpDir } from '../helpers/tmp.js'

const AT = '2026-03-01T09:00:00.000Z'
const DAY = AT.slice(0, 10)
const HEADER = 44
const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex')
const noTrail = { append: async () => ({ log: 'test', index: 0 }) }

function archiveIn (t: Test, dir: string): BodyArchive {
  const a = new BodyArchive(dir, { trail: noTrail, retentionDays: 1, now: () => new Date('2026-03-20T00:00:00Z') })
  t.teardown(async () => { await a.close() })
  return a
}

function packsOf (dir: string, day = DAY): string[] {
  return readdirSync(join(dir, day)).filter((n) => n.endsWith('.pack')).sort().map((n) => join(dir, day, n))
}

/**
 * Counts the writes the archive makes to its packs (a FileHandle's `writev`), for one test only:
 * `stop()` puts `writev` back and says how many there were.
 */
async function countWrites (t: Test, pack: string): Promise<{ count: () => number, stop: () => number }> {
  const proto = Object.getPrototypeOf(await open(pack, 'r').then(async (fh) => { await fh.close(); return fh })) as { writev: (...args: unknown[]) => Promise<unknown> }
  const writev = proto.writev
  let writes = 0
  proto.writev = async function (this: unknown, ...args: unknown[]) { writes++; return await writev.apply(this, args) }
  const stop = (): number => { proto.writev = writev; return writes }
  t.teardown(stop)
  return { count: () => writes, stop }
}

function bodies (n: number, size = 300): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.from(`<doc n="${i}">`), randomBytes(size)]))
}

t.test('a frame is a 44-byte header (magic, length, its complement, SHA-256) and the exact bytes', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>ส่ง</a>'), Buffer.from([0x00, 0xff])])
  await a.put(AT, sha256(body), body)
  await a.close()
  const [pack] = packsOf(dir)
  const bytes = readFileSync(pack)
  t.equal(bytes.length, HEADER + body.length)
  t.equal(bytes.subarray(0, 4).toString('latin1'), 'EGB1')
  t.equal(bytes.readUInt32BE(4), body.length)
  t.equal(bytes.readUInt32BE(8), ~body.length >>> 0)
  t.equal('sha256:' + bytes.subarray(12, 44).toString('hex'), sha256(body))
  t.ok(bytes.subarray(HEADER).equals(body), 'byte for byte')
})

t.test('many bodies written at once cost few writes, and each is read back', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  await a.put(AT, sha256(Buffer.from('first')), Buffer.from('first')) // the pack is open
  const [pack] = packsOf(dir)
  const writes = await countWrites(t, pack)
  const many = bodies(500)
  await Promise.all(many.map(async (b) => { await a.put(AT, sha256(b), b) }))
  const n = writes.stop()
  t.ok(n >= 1 && n <= 50, `500 bodies in ${n} writes`)
  t.equal(statSync(pack).size, HEADER + 5 + many.reduce((n, b) => n + HEADER + b.length, 0), 'every frame in the one pack')
  for (const b of [many[0], many[250], many[499]]) t.ok((await a.get(AT, sha256(b)))?.equals(b))
  t.equal(await a.get(AT, sha256(Buffer.from('never archived'))), undefined)
  t.equal(await a.get('2026-02-01T00:00:00.000Z', sha256(many[0])), undefined, 'another day')
})

t.test('bodies put one by one at a light load wait for each other and share a write', async (t) => {
  const dir = tmpDir(t)
  const a = new BodyArchive(dir, { trail: noTrail, lingerMs: 3_600_000 })
  t.teardown(async () => { await a.close() })
  const first = Buffer.from('first')
  const firstPut = a.put(AT, sha256(first), first) // opens the pack; its body lingers
  while (readdirSync(dir).length === 0 || packsOf(dir).length === 0) await new Promise((resolve) => setImmediate(resolve))
  const [pack] = packsOf(dir)
  const writes = await countWrites(t, pack)
  const some = bodies(5)
  const puts = [firstPut]
  for (const b of some) {
    puts.push(a.put(AT, sha256(b), b))
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(writes.count(), 0, 'nothing written while they linger')
  t.equal(statSync(pack).size, 0)
  await a.close()
  await Promise.all(puts)
  t.equal(writes.stop(), 1, 'six bodies, one write when the archive closed')
  t.equal(statSync(pack).size, [first, ...some].reduce((n, b) => n + HEADER + b.length, 0))
  const again = archiveIn(t, dir)
  for (const b of [first, ...some]) t.ok((await again.get(AT, sha256(b)))?.equals(b), 'read back')
})

t.test('the same bytes the same day are stored once, another day again', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const body = Buffer.from('<letter>the same bytes</letter>')
  await Promise.all([a.put(AT, sha256(body), body), a.put(AT, sha256(body), body)])
  await a.put('2026-03-01T17:00:00.000Z', sha256(body), body)
  await a.put('2026-03-02T01:00:00.000Z', sha256(body), body)
  await a.close()
  t.equal(statSync(packsOf(dir)[0]).size, HEADER + body.length, 'one frame on 1 March, for three messages')
  t.equal(statSync(packsOf(dir, '2026-03-02')[0]).size, HEADER + body.length, 'one on 2 March')
  t.equal(await a.sweep(), 2, 'and retention counts the frames')
})

t.test('after a restart: old bodies are found, new ones go to a new pack, the old pack is left as it was', async (t) => {
  const dir = tmpDir(t)
  const first = archiveIn(t, dir)
  const before = bodies(20)
  for (const b of before) await first.put(AT, sha256(b), b)
  await first.close()
  const [old] = packsOf(dir)
  const oldSize = statSync(old).size

  const second = archiveIn(t, dir)
  for (const b of before) t.ok((await second.get(AT, sha256(b)))?.equals(b), 'a body the previous process archived')
  const after = bodies(5)
  for (const b of after) await second.put(AT, sha256(b), b)
  await second.put(AT, sha256(before[0]), before[0]) // not remembered across the restart: written again, harmlessly
  t.equal(statSync(old).size, oldSize, 'the previous pack is never appended to')
  t.equal(packsOf(dir).length, 2)
  for (const b of after) t.ok((await second.get(AT, sha256(b)))?.equals(b))
  t.equal(await second.sweep(), 26, 'every frame of the day, in both packs')
})

t.test('two archives on one directory (two processes) write two packs', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const b = archiveIn(t, dir)
  const all = bodies(60)
  await Promise.all(all.map(async (body, i) => { await (i % 2 === 0 ? a : b).put(AT, sha256(body), body) }))
  const packs = packsOf(dir)
  t.equal(packs.length, 2)
  for (const body of all) t.ok((await a.get(AT, sha256(body)))?.equals(body), 'either reads every body')
})

t.test('a torn tail after a crash is skipped', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const all = bodies(10)
  for (const body of all) await a.put(AT, sha256(body), body)
  await a.close()
  const [pack] = packsOf(dir)
  const size = statSync(pack).size

  truncateSync(pack, size - 100) // the last body cut short
  const r = archiveIn(t, dir)
  t.equal(await r.get(AT, sha256(all[9])), undefined, 'the torn body is not returned')
  for (const body of all.slice(0, 9)) t.ok((await r.get(AT, sha256(body)))?.equals(body), 'the ones before it are')

  const last = size - all[9].length - HEADER
  truncateSync(pack, last + 20) // only part of the last header
  t.equal(await r.get(AT, sha256(all[9])), undefined)
  t.ok((await r.get(AT, sha256(all[8])))?.equals(all[8]))

  truncateSync(pack, last)
  writeFileSync(pack, Buffer.alloc(4096), { flag: 'a' }) // a tail the file system had sized but not written
  t.ok((await r.get(AT, sha256(all[8])))?.equals(all[8]))
  t.equal(await r.sweep(), 9, 'the whole frames are counted, the zeros are not')
})

t.test('a damaged frame in the middle is skipped and the frames after it are still found', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const all = bodies(6, 2000)
  for (const body of all) await a.put(AT, sha256(body), body)
  await a.close()
  const [pack] = packsOf(dir)
  const bytes = readFileSync(pack)
  const frame = (i: number): number => all.slice(0, i).reduce((n, b) => n + HEADER + b.length, 0)

  // Frame 1 zeroed out whole (pages lost in a crash), a byte of frame 3's body changed.
  bytes.fill(0, frame(1), frame(2))
  bytes[frame(3) + HEADER + 10] ^= 0xff
  writeFileSync(pack, bytes)
  const r = archiveIn(t, dir)
  t.equal(await r.get(AT, sha256(all[1])), undefined, 'the zeroed frame is gone')
  t.equal(await r.get(AT, sha256(all[3])), undefined, 'a body that does not match its digest is never returned')
  for (const i of [0, 2, 4, 5]) t.ok((await r.get(AT, sha256(all[i])))?.equals(all[i]), `frame ${i} is found`)
})

t.test('a body that appears inside another body is not taken for a frame', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  // A document that carries the bytes of a whole frame of another body.
  const inner = Buffer.from('<inner/>')
  const header = Buffer.alloc(HEADER)
  header.write('EGB1', 0, 'latin1')
  header.writeUInt32BE(inner.length, 4)
  header.writeUInt32BE(~inner.length >>> 0, 8)
  Buffer.from(sha256(inner).slice(7), 'hex').copy(header, 12)
  const outer = Buffer.concat([Buffer.from('<outer>'), header, inner, Buffer.from('</outer>')])
  await a.put(AT, sha256(outer), outer)
  t.ok((await a.get(AT, sha256(outer)))?.equals(outer))
  t.equal(await a.get(AT, sha256(inner)), undefined, 'frames are walked by their lengths, not searched for')
  t.equal(await a.sweep(), 1)
})

t.test('a day folder removed by hand is made again: the bodies after it are not written to a removed file', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const [one, two] = bodies(2)
  await a.put(AT, sha256(one), one)
  rmSync(join(dir, DAY), { recursive: true })
  await new Promise((resolve) => setTimeout(resolve, 1100)) // the pack looks at its folder once a second
  await a.put(AT, sha256(two), two)
  t.equal(packsOf(dir).length, 1, 'a new pack in the folder made again')
  t.ok((await a.get(AT, sha256(two)))?.equals(two))
  t.equal(await a.get(AT, sha256(one)), undefined, 'what was removed stays removed')
})

t.test('bodies of several days: a pack per day, the older days\' packs closed', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-01']
  const all = bodies(days.length)
  for (const [i, day] of days.entries()) await a.put(`${day}T12:00:00.000Z`, sha256(all[i]), all[i])
  t.equal(packsOf(dir, '2026-03-01').length, 2, 'a body for a day whose pack was closed goes to a new pack')
  for (const [i, day] of days.entries()) t.ok((await a.get(`${day}T00:00:00.000Z`, sha256(all[i])))?.equals(all[i]))
  t.equal(await a.sweep(), 4)
})

t.test('bodies put while close() runs are all written, to a new pack when the old one has ended', async (t) => {
  const dir = tmpDir(t)
  const a = archiveIn(t, dir)
  const all = bodies(120)
  await a.put(AT, sha256(all[0]), all[0])
  const before = all.slice(1, 60).map(async (b) => { await a.put(AT, sha256(b), b) })
  const closing = a.close()
  const after = all.slice(60).map(async (b) => { await a.put(AT, sha256(b), b) })
  await Promise.all([...before, closing, ...after])
  await a.close()
  for (const b of all) t.ok((await a.get(AT, sha256(b)))?.equals(b))
  t.ok(packsOf(dir).length <= 2)
  t.equal(await a.sweep(), 120, 'each body once')
})
