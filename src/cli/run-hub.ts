import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { pino, type Logger } from 'pino'
import { loadConfig } from '../config/load.js'
import type { HubConfig } from '../config/types.js'
import { Hub, LOG_REDACT } from '../hub.js'
import { buildApp } from '../http/app.js'
import { keepRunningWhenOutputCloses } from './output.js'
import { applyHubV8Options } from './v8-options.js'

export interface RunningHub {
  hub: Hub
  app: FastifyInstance
  url: string
  stop: () => Promise<void>
}

/** Starts a hub from a configuration and listens. Used by `egif start` and the demo. */
export async function runHub (config: HubConfig | string, opts: { log?: Logger } = {}): Promise<RunningHub> {
  const v8Options = applyHubV8Options()
  keepRunningWhenOutputCloses()
  const cfg = typeof config === 'string' ? loadConfig(config) : config
  const log = opts.log ?? pino({
    level: cfg.hub.logLevel,
    redact: { paths: LOG_REDACT, censor: '[redacted]' }
  })
  const hub = await Hub.create(cfg, { log })
  const tls = cfg.hub.tls !== undefined
    ? { key: readFileSync(cfg.hub.tls.keyFile), cert: readFileSync(cfg.hub.tls.certFile), ca: cfg.hub.tls.clientCaFiles.map((f) => readFileSync(f)) }
    : undefined
  const app = buildApp(hub, { logger: log, tls })
  const address = await app.listen({ port: cfg.hub.port, host: cfg.hub.host })
  log.info({ address, dataDir: cfg.hub.dataDir, mode: hub.mode, demo: cfg.demo, v8Options }, 'listening')
  let stopping: Promise<void> | null = null
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      // Readiness turns false and intake answers 503 first, then in-flight work drains.
      await hub.close()
      await app.close()
    })()
    await stopping
  }
  return { hub, app, url: address, stop }
}
