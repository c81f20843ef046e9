import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SERVER = fileURLToPath(new URL('./server-main.ts', import.meta.url))

export interface BenchServer {
  url: string
  proc: ChildProcess
  /** Peak resident set size of the server process, in MB (read from /proc). */
  stop: () => Promise<{ peakRssMb: number, cpuMs: number }>
}

/** Starts a server for a scenario in its own process, so the load generator does not share its event loop. */
export async function startServer (kind: 'bare' | 'hub', env: Record<string, string> = {}): Promise<BenchServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SERVER, kind], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    let buf = ''
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      const m = /^listening (\S+)$/m.exec(buf)
      if (m !== null) resolve(m[1])
    })
    proc.once('exit', (code) => { reject(new Error(`bench server ${kind} exited with ${String(code)}`)) })
  })
  return {
    url,
    proc,
    stop: async () => {
      const stats = await new Promise<{ peakRssMb: number, cpuMs: number }>((resolve) => {
        let buf = ''
        proc.stdout!.on('data', (d: Buffer) => {
          buf += d.toString()
          const m = /^stats (\S+)$/m.exec(buf)
          if (m !== null) resolve(JSON.parse(m[1]) as { peakRssMb: number, cpuMs: number })
        })
        proc.kill('SIGUSR2')
      })
      proc.kill('SIGTERM')
      await new Promise((r) => proc.once('exit', r))
      return stats
    }
  }
}
