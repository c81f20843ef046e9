import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { pino } from 'pino'
import { resolveConfig } from '../../src/config/load.js'
import { Hub } from '../../src/hub.js'
import { buildApp } from '../../src/http/app.js'
import { hashApiKey } from '../../src/registry/participants.js'

/**
 * The process a benchmark scenario loads: `bare` is a fastify route that takes the same bytes and
 * answers 202 (the HTTP ceiling); `hub` is the hub in embedded mode with fsync on. Prints
 * `listening <url>`; on SIGUSR2 prints `stats {peakRssMb, cpuMs}`.
 */
const kind = process.argv[2]
let peakRss = process.memoryUsage.rss()
setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 50).unref()
process.on('SIGUSR2', () => {
  const cpu = process.cpuUsage()
  process.stdout.write(`stats ${JSON.stringify({ peakRssMb: Math.round(Math.max(peakRss, process.memoryUsage.rss()) / 1048576), cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`)
})

if (kind === 'bare') {
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })
  app.post('/v1/messages', async (req, reply) => reply.code(202).send({ status: 'accepted', size: (req.body as Buffer).length }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`listening ${url}/v1/messages\n`)
  process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'egif-bench-'))
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const cfg = resolveConfig({
    hub: { id: 'BENCH-HUB', dataDir, logLevel: 'warn' },
    participants: [
      { id: 'TH-MFA', name: { en: 'MFA' }, apiKeys: [hashApiKey('bench-key-mfa')] },
      { id: 'TH-OCSC', name: { en: 'OCSC' }, apiKeys: [hashApiKey('bench-key-ocsc')], delivery: { mode: 'pull' } }
    ],
    routes: [{ from: '*', to: '*', types: ['*'] }]
  }, join(root, 'bench', 'bench-hub.yaml'), {})
  const hub = await Hub.create(cfg, { log: pino({ level: 'warn' }) })
  const app = buildApp(hub)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`listening ${url}/v1/messages\n`)
  process.on('SIGTERM', () => {
    void hub.close().then(async () => { await app.close() }).then(() => {
      rmSync(dataDir, { recursive: true, force: true })
      process.exit(0)
    })
  })
}
