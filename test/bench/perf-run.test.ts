import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { benchResultFiles } from '../helpers/bench.js'

// `npm run bench -- --perf` end to end (bench/lib/perf.ts; perf.test.ts sums a recording's text).

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

t.test('--perf profiles the whole machine over a hub row\'s saturation run: by thread, by kind of work, the recording kept', { timeout: 240_000 }, async (t) => {
  const maps = (): string[] => readdirSync('/tmp').filter((f) => /^perf-\d+\.map$/.test(f))
  const mapsBefore = new Set(maps())
  const v8Logs = (): string[] => readdirSync(ROOT).filter((f) => /^isolate-.*-v8\.log$/.test(f))
  const v8LogsBefore = new Set(v8Logs())
  const before = benchResultFiles()
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only=c', '--quick', '--perf'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 })
  t.equal(r.status, 0, r.stderr.slice(-2000))
  t.match(r.stderr, /whole machine, % of [\d,]+ samples, by thread: .*hub event loop [\d.]+/)
  t.match(r.stderr, /by kind of work: .*public-key crypto [\d.]+/)
  const written = [...benchResultFiles()].filter((f) => !before.has(f))
  t.equal(written.length, 1)
  const result = JSON.parse(readFileSync(join(ROOT, 'bench/results', written[0]), 'utf8')) as { rows: Array<{ id: string, perf?: { samples: number, byRole: Record<string, number>, byKind: Record<string, number>, file: string } }> }
  const perf = result.rows[0]?.perf
  t.ok(perf !== undefined && perf.samples > 500, 'the row holds the summary of a recording with samples')
  t.ok((perf?.byRole['hub event loop'] ?? 0) > 5, 'the hub\'s event loop is named')
  t.ok((perf?.byRole['hub check threads'] ?? 0) > 1, 'its check thread too')
  t.ok((perf?.byRole['load generator'] ?? 0) > 0 && (perf?.byRole.sink ?? 0) > 0, 'and the load generator and the sink')
  t.ok((perf?.byKind['public-key crypto'] ?? 0) > 1, 'the JWS signatures show as public-key crypto')
  const total = Object.values(perf?.byRole ?? {}).reduce((a, b) => a + b, 0)
  t.ok(Math.abs(total - 100) < 1, `shares by thread add up to 100 (${total})`)
  t.ok(perf !== undefined && existsSync(join(ROOT, perf.file)), 'the recording is kept for perf report')
  t.same(maps().filter((f) => !mapsBefore.has(f)), [], 'no perf map of a hub left in /tmp')
  t.same(v8Logs().filter((f) => !v8LogsBefore.has(f)), [], 'nor a V8 log of one in the working directory')
  if (perf !== undefined) rmSync(join(ROOT, perf.file), { force: true })
  rmSync(join(ROOT, 'bench/results', written[0]))
})
