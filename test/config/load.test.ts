import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import { tmpDir } from '../helpers/tmp.js'

const GOOD = `
hub:
  port: 9000
  dataDir: ./state
participants:
  - id: TH-A
    name: { en: Agency A }
    apiKeys: ["sha256:${'a'.repeat(64)}"]
  - id: TH-B
    name: { th: หน่วยงานบี, en: Agency B }
    delivery: { mode: push, adapter: http-push, config: { url: "http://127.0.0.1:1/x" } }
routes:
  - { from: TH-A, to: TH-B, types: [gov-letter] }
`

function write (t: Test, text: string, name = 'hub.yaml'): string {
  const dir = tmpDir(t)
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

t.test('a valid file loads with defaults applied and paths resolved', async (t) => {
  const file = write(t, GOOD)
  const cfg = loadConfig(file, {})
  t.equal(cfg.hub.port, 9000)
  t.equal(cfg.hub.dataDir, join(file, '..', 'state'), 'relative to the configuration file')
  t.equal(cfg.delivery.maxAttempts, 10, 'default')
  t.equal(cfg.participants[0].delivery.mode, 'pull', 'pull by default')
  t.equal(cfg.demo, false)
  t.equal(cfg.redisUrl, undefined)
})

t.test('environment overrides port, data directory and Redis', async (t) => {
  const file = write(t, GOOD)
  const cfg = loadConfig(file, { PORT: '7001', EGIF_DATA_DIR: '/tmp/egif-x', REDIS_URL: 'redis://127.0.0.1:6379' })
  t.equal(cfg.hub.port, 7001)
  t.equal(cfg.hub.dataDir, '/tmp/egif-x')
  t.equal(cfg.redisUrl, 'redis://127.0.0.1:6379')
  t.throws(() => loadConfig(file, { PORT: 'eighty' }), { code: 'EGIF_ERR_CONFIG_INVALID', message: /PORT=eighty/ })
})

t.test('JSON works as well as YAML', async (t) => {
  const file = write(t, JSON.stringify({ participants: [{ id: 'TH-A', name: { en: 'A' } }] }), 'hub.json')
  t.equal(loadConfig(file, {}).participants[0].id, 'TH-A')
})

t.test('errors name the file, the path, the line and the fix', async (t) => {
  const typo = write(t, GOOD.replace('apiKeys:', 'apiKey:'))
  t.throws(() => loadConfig(typo, {}), { code: 'EGIF_ERR_CONFIG_INVALID', message: /hub\.yaml.*\n.*line 8, \/participants\/0: unknown option "apiKey" — remove it or check its spelling/ })

  const clearKey = write(t, GOOD.replace(`sha256:${'a'.repeat(64)}`, 'my-secret-key'))
  t.throws(() => loadConfig(clearKey, {}), { message: /\/participants\/0\/apiKeys\/0: must match pattern.*never stored in clear/ })

  const badMode = write(t, GOOD.replace('mode: push', 'mode: carrier-pigeon'))
  t.throws(() => loadConfig(badMode, {}), { message: /\/participants\/1\/delivery\/mode: must be one of "push", "pull"/ })

  const unknownRoute = write(t, GOOD.replace('to: TH-B', 'to: TH-Z'))
  t.throws(() => loadConfig(unknownRoute, {}), { code: 'EGIF_ERR_CONFIG_REFERENCE', message: /\/routes\/0\/to: unknown participant "TH-Z"/ })

  const twice = write(t, GOOD.replace('id: TH-B', 'id: TH-A'))
  t.throws(() => loadConfig(twice, {}), { code: 'EGIF_ERR_CONFIG_REFERENCE', message: /declared twice/ })

  const pushNoAdapter = write(t, GOOD.replace('adapter: http-push, ', ''))
  t.throws(() => loadConfig(pushNoAdapter, {}), { message: /push delivery needs "adapter"/ })

  const broken = write(t, 'participants: [ { id: x')
  t.throws(() => loadConfig(broken, {}), { code: 'EGIF_ERR_CONFIG_READ', message: /hub\.yaml/ })

  t.throws(() => loadConfig(join(tmpDir(t), 'missing.yaml'), {}), { code: 'EGIF_ERR_CONFIG_READ', message: /cannot read/ })
})

t.test('the demo configuration loads', async (t) => {
  const cfg = loadConfig(new URL('../../examples/gin-demo/hub.yaml', import.meta.url).pathname, {})
  t.equal(cfg.demo, true)
  t.same(cfg.participants.map((p) => p.id), ['TH-OCSC', 'TH-BB', 'TH-MFA', 'TH-RD'])
  t.ok(cfg.participants.some((p) => p.delivery.mode === 'push') && cfg.participants.some((p) => p.delivery.mode === 'pull'), 'a push and a pull recipient')
})
