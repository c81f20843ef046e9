import t from 'tap'
import { type Release, RecipientSlots } from '../../src/delivery/recipient-slots.js'

t.test('up to the limit a slot is given at once; past it, in arrival order as slots are freed', async (t) => {
  const slots = new RecipientSlots()
  const a = slots.take('TH-C', 2)
  const b = slots.take('TH-C', 2)
  t.type(a, 'function')
  t.type(b, 'function')
  const order: string[] = []
  const third = slots.take('TH-C', 2) as Promise<Release | undefined>
  const fourth = slots.take('TH-C', 2) as Promise<Release | undefined>
  t.type(third, Promise, 'the third waits')
  void third.then(() => order.push('third'))
  void fourth.then(() => order.push('fourth'))
  t.same(slots.load('TH-C'), { running: 2, waiting: 2 })
  t.type(slots.take('TH-B', 2), 'function', 'another recipient has slots of its own')
  ;(a as Release)()
  const r3 = await third
  t.same(order, ['third'], 'the first to wait is the first served')
  t.same(slots.load('TH-C'), { running: 2, waiting: 1 }, 'the freed slot passed on')
  ;(a as Release)()
  t.same(slots.load('TH-C'), { running: 2, waiting: 1 }, 'giving a slot back twice frees it once')
  ;(b as Release)()
  const r4 = await fourth
  t.same(order, ['third', 'fourth'])
  r3!()
  r4!()
  t.same(slots.load('TH-C'), { running: 0, waiting: 0 })
})

t.test('close: every waiting delivery and every later one gets no slot', async (t) => {
  const slots = new RecipientSlots()
  const held = slots.take('TH-C', 1) as Release
  const waiting = slots.take('TH-C', 1)
  slots.close()
  t.equal(await waiting, undefined)
  t.equal(slots.take('TH-C', 1), undefined)
  held()
  t.same(slots.load('TH-C'), { running: 0, waiting: 0 })
})

t.test('many waiting: each is served once, and the count never passes the limit', async (t) => {
  const slots = new RecipientSlots()
  let running = 0
  let most = 0
  let served = 0
  await Promise.all(Array.from({ length: 3000 }, async () => {
    let r = slots.take('TH-C', 7)
    if (r instanceof Promise) r = await r
    running++
    most = Math.max(most, running)
    await new Promise((resolve) => setImmediate(resolve))
    running--
    served++
    r!()
  }))
  t.equal(served, 3000)
  t.equal(most, 7)
  t.same(slots.load('TH-C'), { running: 0, waiting: 0 })
})
