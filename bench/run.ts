import { readFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runLoad, type LoadResult } from './lib/load.js'
import { startServer } from './lib/servers.js'

/**
 * `npm run bench`: each scenario measured beside its baseline in the same run.
 *   intake-xml   the 5 KB example letter (unsigned) through the hub's intake, fsync on, vs a bare fastify route
 *   intake-json  the example JSON document likewise
 * `--quick` shortens every run for a first look. Results are printed and written to bench/results/.
 */
const quick = process.argv.includes('--quick')
const durationMs = quick ? 2000 : 8000
const concurrency = 32
const root = fileURLToPath(new URL('../', import.meta.url))

const samples = {
  xml: readFileSync(root + 'examples/gin-demo/messages/letter-mfa-to-ocsc.xml'),
  json: readFileSync(root + 'examples/gin-demo/messages/personnel-transfer-ocsc-to-mfa.json')
}

function requestFor (format: 'xml' | 'json', run: string) {
  return (i: number) => ({
    body: samples[format],
    headers: {
      authorization: 'Bearer bench-key-mfa',
      'content-type': format === 'xml' ? 'application/xml' : 'application/json',
      'egif-message-id': `${run}-${i}`,
      'egif-sender': 'TH-MFA',
      'egif-receiver': 'TH-OCSC',
      ...(format === 'json' ? { 'egif-document-type': 'personnel-record-transfer' } : {})
    }
  })
}

interface Row { scenario: string, target: string, result: LoadResult, peakRssMb: number, cpuMsPerMsg: number }
const rows: Row[] = []

async function measure (scenario: string, target: 'bare' | 'hub', format: 'xml' | 'json'): Promise<Row> {
  process.stderr.write(`· ${scenario} on ${target} (${durationMs / 1000}s, ${concurrency} connections)…\n`)
  const server = await startServer(target)
  // Warm up (JIT, connections) before the measured run.
  await runLoad({ url: server.url, make: requestFor(format, `warm-${scenario}-${target}`), durationMs: Math.min(1000, durationMs / 4), concurrency })
  const result = await runLoad({ url: server.url, make: requestFor(format, `${scenario}-${target}`), durationMs, concurrency })
  const stats = await server.stop()
  const row = { scenario, target, result, peakRssMb: stats.peakRssMb, cpuMsPerMsg: stats.cpuMs / Math.max(1, result.ok) }
  rows.push(row)
  process.stderr.write(`  ${Math.round(result.perSecond)} req/s, p99 ${result.latencyMs.p99.toFixed(1)} ms, statuses ${JSON.stringify(result.statuses)}\n`)
  return row
}

for (const format of ['xml', 'json'] as const) {
  const scenario = `intake-${format}`
  await measure(scenario, 'hub', format)
  await measure(scenario, 'bare', format)
}

const pad = (s: string, n: number): string => s.padEnd(n)
const num = (n: number, n2: number): string => n.toFixed(n2).padStart(9)
process.stdout.write('\n' + pad('scenario', 14) + pad('target', 8) + 'accepted/s'.padStart(11) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'p99.9 ms'.padStart(10) + 'RSS MB'.padStart(8) + 'CPU ms/msg'.padStart(11) + 'vs bare'.padStart(9) + '\n')
for (const r of rows) {
  const bare = rows.find((x) => x.scenario === r.scenario && x.target === 'bare')!
  process.stdout.write(pad(r.scenario, 14) + pad(r.target, 8) + num(r.result.perSecond, 0).padStart(11) + num(r.result.latencyMs.p50, 2) + num(r.result.latencyMs.p99, 2) + num(r.result.latencyMs.p999, 2).padStart(10) + String(r.peakRssMb).padStart(8) + num(r.cpuMsPerMsg, 3).padStart(11) + `${(r.result.perSecond / bare.result.perSecond * 100).toFixed(0)}%`.padStart(9) + '\n')
}
mkdirSync(root + 'bench/results', { recursive: true })
const file = root + `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), quick, durationMs, concurrency, node: process.version, rows }, null, 2))
process.stdout.write(`\nwritten to ${file}\n`)
