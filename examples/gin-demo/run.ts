import { fileURLToPath } from 'node:url'
import { runHub } from '../../src/cli/run-hub.js'
import { startLegacySystem } from './legacy-system.js'

/**
 * `npm start`: the GIN demo. Starts the legacy-system simulator (the HTTP endpoint of OCSC's and the
 * Budget Bureau's back-office systems) on port 8081, then the hub with `hub.yaml` on port 8080.
 */
const config = fileURLToPath(new URL('./hub.yaml', import.meta.url))
const legacy = await startLegacySystem(Number(process.env.EGIF_DEMO_LEGACY_PORT ?? 8081))
const running = await runHub(config)
process.stdout.write(`
  egif-hub GIN demo
  hub                 ${running.url}   (API keys demo-th-ocsc, demo-th-bb, demo-th-mfa, demo-th-rd)
  legacy simulator    ${legacy.url}   (GET / lists what OCSC's and BB's systems received)
  data                ${running.hub.config.hub.dataDir}
  Try the commands in README.md. Ctrl-C stops both.

`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void running.stop().then(async () => { await legacy.close() }).then(() => { process.exit(0) })
  })
}
