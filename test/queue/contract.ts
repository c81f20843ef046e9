import type { Test } from 'tap'
import type { DeliveryJob, DeliveryQueue } from '../../src/queue/queue.js'
import { until } from '../helpers/hub.js'

/** How long to keep watching for a second, wrong hand-out once the expected ones have come. */
const QUIET_MS = 300
/** How long a job given back waits: far longer than handing out the next job takes on a busy machine. */
const GIVEN_BACK_MS = 1000

/**
 * The contract every DeliveryQueue driver passes (embedded, BullMQ). Each driver's test file calls
 * this with a factory that makes a fresh, empty queue.
 */
export function queueContract (t: Test, make: () => Promise<DeliveryQueue>): void {
  const job = (n: number, attempt = 1): DeliveryJob => ({ sender: 'TH-A', messageId: `m${n}`, attempt, digest: `sha256:${n}` })

  t.test('hands every added job to the handler once', async (t) => {
    const q = await make()
    const seen: string[] = []
    let resolveAll: () => void
    const all = new Promise<void>((resolve) => { resolveAll = resolve })
    q.process(async (j) => {
      seen.push(j.messageId)
      if (seen.length === 50) resolveAll()
    }, 4)
    for (let n = 0; n < 50; n++) await q.add(job(n))
    await all
    await q.close()
    t.same([...seen].sort(), Array.from({ length: 50 }, (_, n) => `m${n}`).sort())
  })

  t.test('adding the same job while it is pending is a no-op; other content is refused', async (t) => {
    const q = await make()
    await q.add(job(1), { delayMs: 200 })
    await q.add(job(1), { delayMs: 200 })
    await t.rejects(q.add({ ...job(1), digest: 'sha256:other' }, { delayMs: 200 }), 'a reused job id with another digest is never silently dropped')
    const seen: string[] = []
    q.process(async (j) => { seen.push(j.messageId) }, 2)
    await until(() => seen.length > 0, 'the job to be handed out', 30_000)
    await new Promise((r) => setTimeout(r, QUIET_MS))
    await q.close()
    t.same(seen, ['m1'], 'handled once')
  })

  t.test('a delayed job is not handed out before its delay', async (t) => {
    const q = await make()
    const seen: Array<{ id: string, at: number }> = []
    q.process(async (j) => { seen.push({ id: j.messageId, at: Date.now() }) }, 2)
    const start = Date.now()
    await q.add(job(1), { delayMs: 300 })
    await q.add(job(2))
    await until(() => seen.length === 2, 'both jobs to be handed out', 30_000)
    await q.close()
    t.same(seen.map((s) => s.id), ['m2', 'm1'], 'the undelayed job first')
    t.ok(seen[1].at - start >= 290, 'the delayed one after its delay')
  })

  t.test('concurrency is bounded', async (t) => {
    const q = await make()
    let running = 0
    let peak = 0
    let done = 0
    let resolveAll: () => void
    const all = new Promise<void>((resolve) => { resolveAll = resolve })
    q.process(async () => {
      running++
      peak = Math.max(peak, running)
      await new Promise((r) => setTimeout(r, 20))
      running--
      if (++done === 12) resolveAll()
    }, 3)
    for (let n = 0; n < 12; n++) await q.add(job(n))
    await all
    await q.close()
    t.ok(peak <= 3, `at most 3 at once (saw ${peak})`)
    t.ok(peak >= 2, 'and more than one')
  })

  t.test('close waits for running handlers', async (t) => {
    const q = await make()
    let finished = false
    let started: () => void
    const isStarted = new Promise<void>((resolve) => { started = resolve })
    q.process(async () => {
      started()
      await new Promise((r) => setTimeout(r, 150))
      finished = true
    }, 1)
    await q.add(job(1))
    await isStarted
    await q.close()
    t.ok(finished, 'the running handler finished before close resolved')
  })

  t.test('the next attempt of a handled job can be added', async (t) => {
    const q = await make()
    const seen: number[] = []
    let resolveAll: () => void
    const all = new Promise<void>((resolve) => { resolveAll = resolve })
    q.process(async (j) => {
      seen.push(j.attempt)
      if (j.attempt < 3) await q.add({ ...j, attempt: j.attempt + 1 }, { delayMs: 10 })
      else resolveAll()
    }, 1)
    await q.add(job(7))
    await all
    await q.close()
    t.same(seen, [1, 2, 3])
  })

  t.test('a job given back is handed out again after its delay, pending meanwhile, and frees its slot', async (t) => {
    const q = await make()
    const seen: Array<{ id: string, at: number }> = []
    let resolveAll: () => void
    const all = new Promise<void>((resolve) => { resolveAll = resolve })
    let givenBackAt = 0
    q.process(async (j) => {
      seen.push({ id: j.messageId, at: Date.now() })
      if (j.messageId === 'm1' && givenBackAt === 0) {
        givenBackAt = Date.now()
        return { laterMs: GIVEN_BACK_MS }
      }
      if (seen.length === 3) resolveAll()
    }, 1)
    await q.add(job(1))
    await until(() => givenBackAt !== 0, 'the first job to be given back', 30_000)
    // One slot: the second job runs while the first waits for its turn again.
    await q.add(job(2))
    await q.add(job(1))
    await t.rejects(q.add({ ...job(1), digest: 'sha256:other' }), 'still pending: its id is taken')
    await all
    await new Promise((r) => setTimeout(r, QUIET_MS))
    await q.close()
    t.same(seen.map((s) => s.id), ['m1', 'm2', 'm1'], 'handed out again once, not added a second time')
    t.ok(seen[2].at - givenBackAt >= GIVEN_BACK_MS - 10, `not before its delay (${seen[2].at - givenBackAt} ms)`)
    // One slot: m2 handed out before m1's delay ran out means the slot was not held while m1 waited.
    t.ok(seen[1].at - givenBackAt < GIVEN_BACK_MS, `and its slot went to the next job meanwhile (after ${seen[1].at - givenBackAt} ms)`)
  })
}
