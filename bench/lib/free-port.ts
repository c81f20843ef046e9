import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Ports this process has handed out: never handed out twice. */
const handedOut = new Set<number>()

/** The first port of the kernel's range for the local side of outgoing connections, if it says. */
function ephemeralStart (): number | undefined {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) ? low : undefined
  } catch {
    return undefined
  }
}

/** Listens on `port` (0: one the kernel picks) and closes again; the port, or undefined if it is taken. */
async function tryPort (port: number): Promise<number | undefined> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(undefined)
      else reject(err)
    })
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port
      s.close(() => { resolve(got) })
    })
  })
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on, for a server another process is about to open.
 * Taken at random below the kernel's ephemeral range: a port of that range (what listening on port 0
 * gives) is also where every outgoing connection on the machine takes its local port, so one of
 * them could hold it before the other process listens. Where the range is not known, or leaves no
 * room below it, the kernel picks.
 */
export async function freePort (): Promise<number> {
  const start = ephemeralStart()
  const low = 10_000
  if (start !== undefined && start - low >= 1000) {
    for (let tries = 0; tries < 50; tries++) {
      const port = low + Math.floor(Math.random() * (start - low))
      if (handedOut.has(port)) continue
      if (await tryPort(port) !== undefined) {
        handedOut.add(port)
        return port
      }
    }
  }
  for (;;) {
    const port = (await tryPort(0))!
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}
