import { mkdirSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.js'
import { runHub } from '../../src/cli/run-hub.js'
import { startLegacySystem } from './legacy-system.js'
import { startEcmsSystem } from './ecms-system.js'
import { useOcscDatabase } from './ocsc-database.js'

/**
 * `npm start`: the GIN demo. Starts the simulators of the agencies' legacy systems — the HTTP back
 * office with the Bureau of the Budget's REST API on port 8081, MFA's correspondence system (SOAP)
 * on port 8082, the Revenue Department's drop folders in data/rd/ (rd/ in EGIF_DATA_DIR when that
 * is set) — then the hub with `hub.yaml` on port 8080. With EGIF_DEMO_DATABASE_URL, OCSC's HR
 * system is reached through its database.
 */
const file = fileURLToPath(new URL('./hub.yaml', import.meta.url))
const cfg = loadConfig(file)
// The demo's bearer token for the Budget Bureau's API; a real deployment sets its own.
process.env.EGIF_DEMO_BB_TOKEN ??= 'demo-bb-api-token'
// Folders in file-drop configurations are relative to hub.yaml; the drop folders must exist. Those
// inside hub.yaml's data directory move with it when EGIF_DATA_DIR puts the data elsewhere, so a
// demo run with its own data directory never reads nor writes the checkout's ./data.
const dataDirOfFile = loadConfig(file, {}).hub.dataDir
for (const p of cfg.participants) {
  const configs: Array<Record<string, unknown> | undefined> = [p.delivery.adapter === 'file-drop' ? p.delivery.config : undefined, ...p.inbound.filter((i) => i.adapter === 'file-drop').map((i) => i.config)]
  for (const c of configs) {
    if (c === undefined || typeof c.dir !== 'string') continue
    const inData = relative(dataDirOfFile, resolve(dirname(file), c.dir))
    const dir = inData.startsWith('..') || isAbsolute(inData) ? resolve(dirname(file), c.dir) : resolve(cfg.hub.dataDir, inData)
    c.dir = dir
    mkdirSync(dir, { recursive: true })
  }
}
const databaseUrl = process.env.EGIF_DEMO_DATABASE_URL
if (databaseUrl !== undefined && databaseUrl !== '') await useOcscDatabase(cfg, databaseUrl)

const legacy = await startLegacySystem(Number(process.env.EGIF_DEMO_LEGACY_PORT ?? 8081), { bbToken: process.env.EGIF_DEMO_BB_TOKEN })
const ecms = await startEcmsSystem(Number(process.env.EGIF_DEMO_ECMS_PORT ?? 8082))
const running = await runHub(cfg)
const rd = cfg.participants.find((p) => p.id === 'TH-RD')!
process.stdout.write(`
  egif-hub GIN demo
  hub                 ${running.url}   (API keys demo-th-ocsc, demo-th-bb, demo-th-mfa, demo-th-rd)
  TH-BB  REST API     ${legacy.url}/bb   (GET ${legacy.url}/ lists what it received)
  TH-MFA ECMS (SOAP)  ${ecms.url}   (GET ${legacy.url}/mfa/ecms lists letters and notifications)
  TH-RD  file drop    ${String(rd.delivery.config.dir)} (in) · ${String(rd.inbound[0]?.config.dir)} (out)
  TH-OCSC             ${databaseUrl !== undefined && databaseUrl !== '' ? 'its HR database (sql-table: ocsc_hr_inbox, ocsc_hr_outbox)' : 'pull: its mailbox on the hub'}
  data                ${running.hub.config.hub.dataDir}
  Try the commands in README.md. Ctrl-C stops everything.

`)
legacy.showEcms(ecms)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void running.stop().then(async () => { await legacy.close(); await ecms.close() }).then(() => { process.exit(0) })
  })
}
