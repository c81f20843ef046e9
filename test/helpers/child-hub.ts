import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export { freePort } from '../../bench/lib/free-port.js'

export interface ChildHub {
  proc: ChildProcess
  url: string
  output: () => string
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>
}

/** Writes a configuration as JSON next to the data and returns its path. */
export function writeConfig (dir: string, cfg: unknown): string {
  const file = join(dir, 'hub.json')
  writeFileSync(file, JSON.stringify(cfg, null, 2))
  return file
}

/** Starts `egif start` as a real child process and waits until it answers /ready. */
export async function startChildHub (configFile: string, port: number, env: Record<string, string> = {}): Promise<ChildHub> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/egif.js'), 'start', '--config', configFile], {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => { resolve(code ?? signal ?? -1) }))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30000
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the hub exited while starting:\n${out}`)
    try {
      const res = await fetch(`${url}/ready`)
      if (res.ok) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`the hub did not become ready:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { proc, url, output: () => out, exited }
}
