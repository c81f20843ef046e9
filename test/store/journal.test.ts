import t from 'tap'
import { appendFileSync, readdirSync, statSync, truncateSync, writeFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Journal, type JournalEntry } from '../../src/store/journal.js'
import { tmpDir } from '../helpers/tmp.js'

type H = { n: number }

async function replay (dir: string, opts = {}): Promise<{ j: Journal<H>, entries: Array<JournalEntry<H>> }> {
  const entries: Array<JournalEntry<H>> = []
  const j = await Journal.open<H>(dir, (e) => { entries.push(e) }, opts)
  return { j, entries }
}

t.test('appends survive a reopen, in order, with their payloads', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir)
  const locs = await Promise.all([1, 2, 3].map((n) => j.append({ n }, n === 2 ? undefined : Buffer.from(`body-${n}`))))
  t.equal(locs[1], null, 'no payload, no location')
  await j.close()
  const again = await replay(dir)
  t.same(again.entries.map((e) => e.header.n), [1, 2, 3])
  t.equal(again.j.read(again.entries[0].payload!).toString(), 'body-1')
  t.equal(again.j.read(again.entries[2].payload!).toString(), 'body-3')
  t.equal(again.j.read(locs[2]!).toString(), 'body-3', 'the location given at append time reads the same bytes')
  await again.j.close()
})

t.test('a header with text of several bytes a character (Thai) comes back whole, read back and replayed, its payload after it', async (t) => {
  const dir = tmpDir(t)
  const j = await Journal.open<{ n: number, reason: string }>(dir, () => {})
  const reason = 'เอกสารไม่ผ่านการตรวจสอบลายมือชื่อ — กรมบัญชีกลาง'
  const appended = await j.appendRecord({ n: 1, reason }, Buffer.from('ข้อความ'))
  t.same(j.readHeader(appended.frame), { n: 1, reason }, 'read back from where the frame went')
  t.equal(j.read(appended.payload!).toString('utf8'), 'ข้อความ', 'the payload right after the header')
  await j.close()
  const entries: Array<JournalEntry<{ n: number, reason: string }>> = []
  const again = await Journal.open<{ n: number, reason: string }>(dir, (e) => { entries.push(e) })
  t.same(entries.map((e) => e.header), [{ n: 1, reason }], 'and replayed: the frame\'s checksum and lengths hold')
  t.equal(again.read(entries[0].payload!).toString('utf8'), 'ข้อความ')
  await again.close()
})

t.test('a torn tail is cut at the last whole frame and appends continue after it', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir)
  await j.append({ n: 1 }, Buffer.from('one'))
  await j.append({ n: 2 }, Buffer.from('two'))
  await j.close()
  const seg = join(dir, readdirSync(dir)[0])
  const whole = statSync(seg).size
  truncateSync(seg, whole - 3)
  const a = await replay(dir)
  t.same(a.entries.map((e) => e.header.n), [1], 'the torn record is dropped, the earlier one kept')
  await a.j.append({ n: 3 }, Buffer.from('three'))
  await a.j.close()
  const b = await replay(dir)
  t.same(b.entries.map((e) => e.header.n), [1, 3])
  t.equal(b.j.read(b.entries[1].payload!).toString(), 'three')
  await b.j.close()
})

t.test('garbage appended after the last frame is dropped', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir)
  await j.append({ n: 1 })
  await j.close()
  appendFileSync(join(dir, readdirSync(dir)[0]), Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 0, 0, 0, 2, 123]))
  const a = await replay(dir)
  t.same(a.entries.map((e) => e.header.n), [1])
  await a.j.close()
})

t.test('a flipped bit in a frame fails its checksum', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir)
  await j.append({ n: 1 }, Buffer.from('aaaa'))
  await j.append({ n: 2 }, Buffer.from('bbbb'))
  await j.close()
  const seg = join(dir, readdirSync(dir)[0])
  const bytes = readFileSync(seg)
  bytes[bytes.length - 2] ^= 0x01
  writeFileSync(seg, bytes)
  const a = await replay(dir)
  t.same(a.entries.map((e) => e.header.n), [1], 'the damaged last record is not replayed')
  await a.j.close()
})

t.test('segments rotate and a corrupt older segment refuses to open', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir, { segmentBytes: 200 })
  for (let n = 0; n < 20; n++) await j.append({ n }, Buffer.alloc(50, n))
  await j.close()
  const segs = readdirSync(dir).sort()
  t.ok(segs.length > 2, `rotated into ${segs.length} segments`)
  const a = await replay(dir, { segmentBytes: 200 })
  t.same(a.entries.map((e) => e.header.n), [...Array(20).keys()])
  t.same([...a.j.read(a.entries[7].payload!)], [...Buffer.alloc(50, 7)])
  await a.j.close()
  truncateSync(join(dir, segs[0]), statSync(join(dir, segs[0])).size - 1)
  await t.rejects(replay(dir), { code: 'EGIF_ERR_STORAGE_UNAVAILABLE' })
})

t.test('concurrent appends share flushes and all resolve', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir)
  await Promise.all(Array.from({ length: 500 }, (_, n) => j.append({ n }, Buffer.from(String(n)))))
  await j.close()
  const a = await replay(dir)
  t.equal(a.entries.length, 500)
  t.same(a.entries.map((e) => e.header.n), [...Array(500).keys()], 'order kept')
  await a.j.close()
})

/** Turns of the event loop: a flush due "at once" has run after a few of them. */
async function turns (n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

const segmentBytes = (dir: string): number => readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0)

t.test('a lingering record waits for the next record someone waits for, and goes in its write', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir, { lingerMs: 3_600_000 })
  let lingered = false
  const lazy = j.appendRecord({ n: 1 }, Buffer.from('outcome'), { linger: true }).then((a) => { lingered = true; return a })
  await turns()
  t.notOk(lingered, 'not written on its own')
  t.equal(segmentBytes(dir), 0, 'nothing on disk yet')
  const urgent = await j.appendRecord({ n: 2 }, Buffer.from('message'))
  t.ok(lingered, 'written by the time the next record is')
  const first = await lazy
  t.equal(first.frame.offset, 0, 'in queue order: the lingering record first')
  t.ok(urgent.frame.offset > first.frame.offset)
  await j.close()
  const again = await replay(dir)
  t.same(again.entries.map((e) => e.header.n), [1, 2])
  await again.j.close()
})

t.test('a lingering record is written when the journal closes, and after its time alone', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir, { lingerMs: 3_600_000 })
  const lazy = j.appendRecord({ n: 1 }, undefined, { linger: true })
  await j.close()
  await lazy
  const a = await replay(dir, { lingerMs: 1 })
  t.same(a.entries.map((e) => e.header.n), [1], 'closing wrote it')
  await a.j.appendRecord({ n: 2 }, undefined, { linger: true })
  await a.j.close()
  const b = await replay(dir)
  t.same(b.entries.map((e) => e.header.n), [1, 2], 'alone, once its time was up')
  await b.j.close()
})

t.test('records appended while a write is under way go in the next write, lingering or not', async (t) => {
  const dir = tmpDir(t)
  const { j } = await replay(dir, { lingerMs: 3_600_000 })
  const first = j.appendRecord({ n: 1 })
  // Queued during the first write: that flush takes them without waiting for the linger.
  const lazy = j.appendRecord({ n: 2 }, undefined, { linger: true })
  await first
  await lazy
  await j.close()
  const a = await replay(dir)
  t.same(a.entries.map((e) => e.header.n), [1, 2])
  await a.j.close()
})
