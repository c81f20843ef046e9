import t from 'tap'
import type { Later } from '../../src/queue/queue.js'
import { type Release, RecipientSlots, waitingLimit } from '../../src/delivery/recipient-slots.js'

t.test('up to the limit a slot is given at once; past it a few wait, in arrival order; past those, the job is given back', async (t) => {
  // No room in the process (concurrency 0): only the few may wait.
  const slots = new RecipientSlots(0)
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
  const slots = new RecipientSlots(0)
  const held = slots.take('TH-C', 1) as Release
  const waiting = slots.take('TH-C', 1)
  slots.close()
  t.equal(await waiting, undefined)
  t.equal(slots.take('TH-C', 1), undefined)
  held()
  t.same(slots.load('TH-C'), { running: 0, waiting: 0, givenBack: 0 })
})

t.test('many at once: each is served once, given back or not, and the count never passes the limit', async (t) => {
  const slots = new RecipientSlots(0)
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

t.test('a job given back comes back after about twice the time a slot is held, spread by a quarter', async (t) => {
  let now = 0
  let random = 0.5
  const slots = new RecipientSlots(0, () => now, () => random)
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
  now += 480
  second()
  await next
  void waitOne()
  // The average moves by an eighth of the difference: 400 + (480 − 400) / 8 = 410.
  t.equal(later(), 820)
  t.same(slots.load('TH-C'), { running: 1, waiting: 1, givenBack: 5 })
})

t.test('while give-backs are more than a quarter of the deliveries done, each second the delay doubles; under a sixteenth, it halves; never past 5 min', async (t) => {
  let now = 0
  const slots = new RecipientSlots(0, () => now, () => 0.5)
  // One of TH-C's two slots stays taken throughout (it is never given back, so never measured).
  void slots.take('TH-C', 2)
  /** One delivery done on the other slot, held 100 ms. */
  const deliver = (hold = 100): void => {
    const b = slots.take('TH-C', 2) as Release
    now += hold
    b()
  }
  /** TH-C busy (both slots held, one waiting): `gives` jobs given back, then two deliveries of 100 ms done. */
  const busy = async (gives: number): Promise<number> => {
    const b = slots.take('TH-C', 2) as Release
    const w = slots.take('TH-C', 2) as Promise<Release | undefined>
    let last = 0
    for (let i = 0; i < gives; i++) last = (slots.take('TH-C', 2) as Later).laterMs
    now += 100
    b()
    const r = (await w)!
    now += 100
    r()
    return last
  }
  deliver()
  t.equal(await busy(5), 200, 'twice the 100 ms hold; five give-backs, three deliveries in this second')
  now += 1000
  t.equal(await busy(5), 400, 'the next second: doubled')
  now += 1000
  t.equal(await busy(5), 800, 'still more than a quarter: doubled again')
  now += 1000
  for (let i = 0; i < 10; i++) deliver()
  now += 1000
  t.equal(await busy(1), 800, 'the second with more give-backs doubled it to 8×, the one with none against ten deliveries halved it')
  deliver(10_000_000)
  t.equal(await busy(1), 300_000, 'a slot held for hours: 5 min at the most')
})

t.test('while fewer than three quarters of the process\'s deliveries at once are held, any number may wait; past that, a few per recipient', async (t) => {
  const slots = new RecipientSlots(8)
  const a = slots.take('TH-C', 1) as Release
  const waiting = Array.from({ length: 5 }, () => slots.take('TH-C', 1))
  for (const w of waiting) t.type(w, Promise, 'room in the process: it waits')
  t.same(slots.load('TH-C'), { running: 1, waiting: 5, givenBack: 0 })
  t.type(slots.take('TH-C', 1), 'object', 'six of eight held: the seventh is given back')
  t.notOk(slots.take('TH-C', 1) instanceof Promise)
  t.type(slots.take('TH-B', 1), 'function', 'another recipient still gets a slot')
  t.type(slots.take('TH-B', 1), Promise, 'and one of its own may wait')
  a()
  t.same(slots.load('TH-C'), { running: 1, waiting: 4, givenBack: 2 })
  slots.close()
  for (const w of waiting) await w
})
