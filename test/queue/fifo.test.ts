import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Fifo } from '../../src/queue/fifo.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

t.test('items come out in the order they went in, across compactions', async (t) => {
  const q = new Fifo<number>()
  const out: number[] = []
  for (let i = 0; i < 5000; i++) {
    q.push(i)
    if (i % 3 === 0) out.push(q.shift()!)
  }
  t.equal(q.length, 5000 - out.length)
  while (q.length > 0) out.push(q.shift()!)
  t.same(out, Array.from({ length: 5000 }, (_, i) => i), 'every item once, in order')
  t.equal(q.shift(), undefined, 'empty: undefined')
})

t.test('drain gives what is left, oldest first, and empties it', async (t) => {
  const q = new Fifo<string>()
  for (const s of ['a', 'b', 'c', 'd']) q.push(s)
  q.shift()
  t.same(q.drain(), ['b', 'c', 'd'])
  t.equal(q.length, 0)
  q.push('e')
  t.same(q.drain(), ['e'], 'usable again after a drain')
})

t.test('an item taken out is no longer held by the queue', async (t) => {
  const q = new Fifo<object>()
  let taken: WeakRef<object>
  ;(() => {
    const first = { payload: new Array(1000).fill(1) }
    taken = new WeakRef(first)
    q.push(first)
    q.push({ next: true })
    q.shift()
  })()
  // Let the current job end (a WeakRef keeps its target until then), then collect.
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  t.equal(taken!.deref(), undefined, 'collected while the queue still holds other items')
  t.equal(q.length, 1)
})
