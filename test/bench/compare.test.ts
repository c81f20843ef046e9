import t from 'tap'
import { apart, apartByChance, comparisonTable, summarize, targetLoadLines, type BenchResult } from '../../bench/lib/compare.js'
import { median } from '../../bench/lib/figures.js'

type Row = BenchResult['rows'][number]
const hub = (id: string, delivered: number, cpu: number, extra: Partial<Row> = {}): Row =>
  ({ id, kind: 'hub', acceptedPerSec: delivered + 10, deliveredPerSec: delivered, cpuMsPerMsgAll: cpu, peakRssMb: 300, ...extra })
const target = (p99: number): Row['fixed'] => [
  { offered: 250, share: 0.25, latencyMs: { p99: 1 } },
  { offered: 1000, share: 0, latencyMs: { p99 } }
]

t.test('median of odd and even counts; NaN for none', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([])))
})

t.test('summarize takes each figure\'s median over the rounds, row by row', async (t) => {
  const rounds: BenchResult[] = [
    { rows: [hub('a', 1000, 1.2, { fixed: target(40), calibration: { es256SignUs: 50 } }), { id: 'bare(a)', kind: 'bare', acceptedPerSec: 9000, deliveredPerSec: null, cpuMsPerMsgAll: 0.2, peakRssMb: 150 }] },
    { rows: [hub('a', 1400, 1.0, { fixed: target(25), calibration: { es256SignUs: 35 } })] },
    { rows: [hub('a', 1300, 1.5, { fixed: target(90), calibration: { es256SignUs: 60 } }), hub('c', 2000, 0.9)] }
  ]
  const s = summarize(rounds)
  t.same(s.map((r) => r.id), ['a', 'bare(a)', 'c'], 'rows in the order first seen')
  const a = s[0]
  t.equal(a.rounds, 3)
  t.equal(a.rate, 1300, 'delivered/s: the median of 1,000, 1,400 and 1,300, not their mean')
  t.same(a.rates, [1000, 1400, 1300], 'and every round\'s, in order')
  t.equal(a.cpuAll, 1.2)
  t.equal(a.p99AtTarget, 40, 'p99 read from the 1,000/s row only')
  t.equal(a.es256Us, 50)
  t.equal(s[1].rate, 9000, 'a baseline without delivery is rated by accepted/s')
  t.equal(s[1].rounds, 1)
  t.equal(s[2].p99AtTarget, undefined, 'no 1,000/s row: no p99')
  t.equal(s[2].es256Us, undefined, 'a result without calibration has none')
  t.equal(a.loopCpu, undefined, 'no split by thread: no event-loop figure')
  const split = summarize([0.5, 0.3, 0.4].map((main) => ({ rows: [hub('c', 2000, 0.9, { cpuMsPerMsgByThread: { main, checks: 0.2, other: 0.1 } })] })))
  t.equal(split[0].loopCpu, 0.4, 'the event loop\'s CPU per message: the median over the rounds')
  t.same(split[0].loopCpus, [0.5, 0.3, 0.4])
})

t.test('two sides are apart only when no round of one reaches a round of the other', async (t) => {
  t.ok(apart([10, 12, 11], [13, 15, 14]))
  t.ok(apart([13, 15, 14], [10, 12, 11]), 'either way round')
  t.notOk(apart([10, 14, 11], [13, 15, 14]), 'one round of the first above one of the second: not apart')
  t.notOk(apart([10], [20]), 'one round a side says nothing about the spread')
  t.equal(apartByChance(3, 3), 0.1, 'same version, three rounds a side: apart one time in ten')
  t.equal(apartByChance(5, 5), 2 / 252)
  t.equal(apartByChance(1, 1), 1)
})

t.test('the table gives the second version\'s ratio to the first, and a dash where one side lacks the row', async (t) => {
  const a = summarize([{ rows: [hub('a', 1000, 2.0, { fixed: target(50) })] }])
  const b = summarize([{ rows: [hub('a', 1500, 1.5, { fixed: target(20) }), hub('c', 3000, 0.5)] }])
  const lines = comparisonTable(a, b, ['1234567890', 'this'])
  t.equal(lines.length, 4, 'two lines of header and one line per row of either side')
  t.match(lines[1], /^ +1234567890 +this +ratio +apart +1234567890 +this +ratio/)
  const rowA = lines[2].trim().split(/\s+/)
  t.same(rowA.slice(0, 15), ['(a)', '1,000', '1,500', '1.50×', 'no', '2.000', '1.500', '0.75×', '—', '—', '—', '—', '50.0', '20.0', '0.40×'], 'one round a side: not apart; no split by thread: dashes')
  const rowC = lines[3].trim().split(/\s+/)
  t.same(rowC.slice(0, 5), ['(c)', '—', '3,000', '—', '—'], 'only in the second: no ratio')
})

t.test('the event loop\'s CPU per message: its ratio, and apart when no round of one side reaches the other', async (t) => {
  const byThread = (main: number): Partial<Row> => ({ cpuMsPerMsgByThread: { main, checks: 0.5, other: 0.5 } })
  const a = summarize([1.00, 0.96, 0.98].map((m, i) => ({ rows: [hub('d', 650 + i * 10, 2.7, byThread(m))] })))
  const b = summarize([0.94, 0.90, 0.94].map((m, i) => ({ rows: [hub('d', 655 + i * 10, 2.7, byThread(m))] })))
  const row = comparisonTable(a, b, ['before', 'this'])[2].trim().split(/\s+/)
  t.same(row.slice(0, 12), ['(d)', '660', '665', '1.01×', 'no', '2.700', '2.700', '1.00×', '0.980', '0.940', '0.96×', 'yes'], 'rates overlap, the event loop\'s CPU does not')
})

t.test('the CPU in all at 1,000/s offered: its median, every round, the ratio and whether apart', async (t) => {
  const at = (cpu: number): Partial<Row> => ({ fixed: [{ offered: 250, share: 0.25, latencyMs: { p99: 1 }, cpuMsPerMsgAll: 9 }, { offered: 1000, share: 0, latencyMs: { p99: 30 }, cpuMsPerMsgAll: cpu }] })
  const a = summarize([1.70, 1.64, 1.66].map((c) => ({ rows: [hub('a', 2000, 0.9, at(c)), hub('c', 2300, 0.8)] })))
  const b = summarize([1.50, 1.56, 1.52].map((c) => ({ rows: [hub('a', 2000, 0.9, at(c)), hub('c', 2300, 0.8)] })))
  t.equal(a[0].cpuAllAtTarget, 1.66, 'the median of the 1,000/s rows only')
  t.same(a[0].cpuAllsAtTarget, [1.70, 1.64, 1.66])
  t.equal(a[1].cpuAllAtTarget, undefined, 'no 1,000/s row: none')
  const lines = targetLoadLines(a, b, ['before', 'this'])
  t.equal(lines.length, 1, 'a line for the row both sides ran at 1,000/s')
  t.match(lines[0], /^\(a\) at 1,000\/s offered, CPU all ms per message: before 1\.660 \(1\.700 1\.640 1\.660\), this 1\.520 \(1\.500 1\.560 1\.520\), ratio 0\.92×, apart yes$/)
  const old = summarize([{ rows: [hub('a', 2000, 0.9, { fixed: target(30) })] }])
  t.same(targetLoadLines(old, b, ['before', 'this']), [], 'a version whose bench did not measure it: no line')
})
