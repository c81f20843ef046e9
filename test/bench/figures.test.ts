import t from 'tap'
import { loopLateness, percentile } from '../../bench/lib/figures.js'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('nearest-rank percentiles of an ascending list', async (t) => {
  const xs = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.equal(percentile(xs, 0.5), 5)
  t.equal(percentile(xs, 0.99), 10)
  t.equal(percentile(xs, 0.1), 1)
  t.equal(percentile(new Float64Array(0), 0.5), 0, 'none: 0')
})

t.test('the loop\'s lateness shows a stall of the event loop, and each reading starts afresh', async (t) => {
  const loop = loopLateness()
  await sleep(30)
  loop.late()
  // A reading restarts the count at the timer's next run, so the stall comes a few runs later.
  await sleep(20)
  // Hold the event loop for 250 ms: the timer due meanwhile runs at least ~245 ms late (longer
  // than a busy machine's own hiccups, which the next reading must not be mistaken for).
  const until = performance.now() + 250
  while (performance.now() < until) { /* busy */ }
  await sleep(20)
  const stalled = loop.late()
  t.ok(stalled.max >= 200, `a stall of 250 ms shows (${stalled.max.toFixed(1)} ms at most)`)
  t.ok(stalled.p50 >= 0 && stalled.p50 <= stalled.p99 && stalled.p99 <= stalled.max, 'p50 ≤ p99 ≤ max, never below 0')
  await sleep(30)
  const after = loop.late()
  t.ok(after.max < stalled.max, `the next reading no longer holds the stall (${after.max.toFixed(1)} ms at most)`)
})
