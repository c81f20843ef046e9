import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/egif.js', import.meta.url))

export interface EgifRunOptions {
  env?: Record<string, string>
  stdin?: string
  /** The reader of its standard output stops (closes the pipe) once this says enough; called with '' first, so `() => true` reads nothing. */
  readUntil?: (out: string) => boolean
  /** Nobody reads its standard error: the pipe is closed at once. */
  closeStderr?: boolean
}

/** Runs the `egif` command as a user would, with its exit code and both outputs. */
export async function egif (args: string[], opts: EgifRunOptions = {}): Promise<{ code: number, out: string, err: string }> {
  return await new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, EGIF_API_KEY: '', EGIF_SENDER: '', ...opts.env } })
    let out = ''
    let err = ''
    const enough = opts.readUntil ?? (() => false)
    if (enough('')) p.stdout.destroy()
    else p.stdout.on('data', (d: Buffer) => { out += d.toString(); if (enough(out)) p.stdout.destroy() })
    if (opts.closeStderr === true) p.stderr.destroy()
    else p.stderr.on('data', (d: Buffer) => { err += d.toString() })
    p.on('close', (code) => { resolve({ code: code ?? -1, out, err }) })
    p.stdin.end(opts.stdin ?? '')
  })
}
