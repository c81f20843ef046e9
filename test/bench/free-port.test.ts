import t from 'tap'
import { readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { once } from 'node:events'
import { freePort } from '../../bench/lib/free-port.js'

const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)

t.test('a free port is below the range outgoing connections take theirs from, listenable, and never handed out twice', async (t) => {
  const ports: number[] = []
  for (let i = 0; i < 40; i++) ports.push(await freePort())
  t.equal(new Set(ports).size, ports.length, 'forty different ports')
  t.ok(ports.every((p) => p >= 10_000 && p < ephemeralLow), `all in [10000, ${ephemeralLow}): ${ports.slice(0, 5).join(', ')}…`)
  const s = createServer()
  s.listen(ports[0], '127.0.0.1')
  await once(s, 'listening')
  t.teardown(() => { s.close() })
  // An outgoing connection's local port comes from the ephemeral range, never from below it.
  const c = connect((s.address() as { port: number }).port, '127.0.0.1')
  await once(c, 'connect')
  t.ok(c.localPort! >= ephemeralLow, `an outgoing connection's own port (${String(c.localPort)}) is in the ephemeral range`)
  c.destroy()
})

t.test('a port something listens on is not handed out', async (t) => {
  // Servers on 4,000 ports at the bottom of the range the draws come from: about one draw in six
  // lands on one of them, so a freePort that did not look would hand some out.
  const held: Array<ReturnType<typeof createServer>> = []
  for (let port = 10_000; port < 14_000; port++) {
    const s = createServer()
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => { resolve(false) })
      s.listen(port, '127.0.0.1', () => { resolve(true) })
    })
    if (ok) held.push(s)
  }
  t.teardown(() => { for (const s of held) s.close() })
  t.ok(held.length > 3_500, `${held.length} ports held`)
  const taken = new Set(held.map((s) => (s.address() as { port: number }).port))
  const got: number[] = []
  for (let i = 0; i < 300; i++) got.push(await freePort())
  t.same(got.filter((p) => taken.has(p)), [], 'none of the ports a server holds')
})
