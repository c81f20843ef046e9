import t from 'tap'
import type { Later } from '../../src/queue/queue.js'
import { type Release, RecipientSlots, waitingLimit } from '../../src/delivery/recipient-slots.js'

t.test('up to the limit a slot is given at once; past it a few wait, in arrival order; past those, the job is given back', async (t) => {
  const slots = new RecipientSlots()
  t.equal(waitingLimit(8), 2)
  const held = Array.from({ length: 8 }, () => slots.take('TH-C', 8))
  for (const h of held) t.type(h, 'function')
  const order: string[] = []
  const ninth = slots.take('TH-C', 8) as Promise<Release | undefined>
  const tenth = slots.take('TH-C', 8) as Promise<Release | undefined>
  t.type(ninth, Promise, 'the ninth waits')
  t.type(tenth, Promise, 'and the tenth')
  void ninth.then(() => order.push('ninth'))
  void tenth.then(() => order.push('tenth'))
  const eleventh = slots.take('TH-C', 8) as Later
  t.type(eleventh.laterMs, 'number', 'the eleventh is given back for later')
  t.same(slots.load('TH-C'), { running: 8, waiting: 2, givenBack: 1 })
  t.type(slots.take('TH-B', 8), 'function', 'another recipient has slots of its own')
  ;(held[0] as Release)()
  const r9 = await ninth
  t.same(order, ['ninth'], 'the first to wait is the first served')
  t.same(slots.load('TH-C'), { running: 8, waiting: 1, givenBack: 1 }, 'the freed slot passed on')
  ;(held[0] as Release)()
  t.same(slots.load('TH-C'), { running: 8, waiting: 1, givenBack: 1 }, 'giving a slot back twice frees it once')
  t.type(slots.take('TH-C', 8), Promise, 'with room among the waiting, a delivery waits again')
  ;(held[1] as Release)()
  const r10 = await tenth
  t.same(order, ['ninth', 'tenth'])
  t.equal(waitingLimit(1), 1, 'a recipient that takes one at a time still has one waiting')
  t.equal(waitingLimit(128), 32)
  void r9
  void r10
})

t.test('close: every waiting delivery and every later one gets no slot', async (t) => {
  const slots = new RecipientSlots()
  const held = slots.take('TH-C', 1) as Release
  const waiting = slots.take('TH-C', 1)
  slots.close()
  t.equal(await waiting, undefined)
  t.equal(slots.take('TH-C', 1), undefined)
  held()
  t.same(slots.load('TH-C'), { running: 0, waiting: 0, givenBack: 0 })
})

t.test('many at once: each is served once, given back or not, and the count never passes the limit', async (t) => {
  const slots = new RecipientSlots()
  let running = 0
  let most = 0
  let served = 0
  let givenBack = 0
  await Promise.all(Array.from({ length: 3000 }, async () => {
    for (;;) {
      let r = slots.take('TH-C', 7)
      if (r instanceof Promise) r = await r
      if (typeof r !== 'function') {
        givenBack++
        // What the queue does, sooner: hand it out again later.
        await new Promise((resolve) => setTimeout(resolve, 1))
        continue
      }
      running++
      most = Math.max(most, running)
      await new Promise((resolve) => setImmediate(resolve))
      running--
      served++
      r()
      return
    }
  }))
  t.equal(served, 3000)
  t.equal(most, 7)
  t.ok(givenBack > 0)
  t.same(slots.load('TH-C'), { running: 0, waiting: 0, givenBack })
})

t.test('a job given back comes back after about twice the time a slot is held, within 100 ms and 30 s, spread by a quarter', async (t) => {
  let now = 0
  let random = 0.5
  const slots = new RecipientSlots(() => now, () => random)
  const later = (): number => (slots.take('TH-C', 1) as Later).laterMs
  /** With the one slot held and one waiting, the next take is given back. */
  const waitOne = (): Promise<Release | undefined> => slots.take('TH-C', 1) as Promise<Release | undefined>
  const first = slots.take('TH-C', 1) as Release
  let next = waitOne()
  t.equal(later(), 100, 'before any slot was given back: the least delay')
  now += 400
  first()
  const second = (await next)!
  next = waitOne()
  t.equal(later(), 800, 'twice the 400 ms the slot was held')
  random = 0
  t.equal(later(), 600, 'three quarters of it at the least')
  random = 1
  t.equal(later(), 1000, 'five quarters at the most')
  random = 0.5
  now += 20_400
  second()
  const third = (await next)!
  next = waitOne()
  // The average moves by an eighth of the difference: 400 + (20,400 − 400) / 8 = 2,900.
  t.equal(later(), 5800)
  now += 10_000_000
  third()
  await next
  void waitOne()
  t.equal(later(), 30_000, 'never more than 30 s')
  t.same(slots.load('TH-C'), { running: 1, waiting: 1, givenBack: 6 })
})
