import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.js'
import { AdapterRegistry } from '../../src/adapters-sdk/registry.js'

t.test('every adapter configuration of the GIN demo is valid for its adapter, and at least three kinds of legacy system are shown', async (t) => {
  const cfg = loadConfig(fileURLToPath(new URL('../../examples/gin-demo/hub.yaml', import.meta.url)), {})
  const reg = new AdapterRegistry()
  const used = new Set<string>()
  for (const p of cfg.participants) {
    if (p.delivery.mode === 'push') {
      t.doesNotThrow(() => reg.resolve(p.delivery.adapter!, p.delivery.config, p.id), `${p.id} delivery`)
      used.add(p.delivery.adapter!)
    }
    for (const ib of p.inbound) {
      const r = reg.resolve(ib.adapter, ib.config, `${p.id} inbound`)
      t.type(r.adapter.runInbound, 'function', `${p.id} inbound ${ib.adapter} has an inbound side`)
      used.add(ib.adapter)
    }
  }
  t.same([...used].sort(), ['file-drop', 'rest-json', 'soap-ecms'])
  t.equal(cfg.participants.find((p) => p.id === 'TH-OCSC')?.delivery.mode, 'pull', 'OCSC pulls unless the demo is given a database')
})
