import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/egif.js', import.meta.url))

/** Runs the `egif` command as a user would, with its exit code and both outputs. */
export async function egif (args: string[], opts: { env?: Record<string, string>, stdin?: string } = {}): Promise<{ code: number, out: string, err: string }> {
  return await new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, EGIF_API_KEY: '', EGIF_SENDER: '', ...opts.env } })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.stderr.on('data', (d: Buffer) => { err += d.toString() })
    p.on('close', (code) => { resolve({ code: code ?? -1, out, err }) })
    p.stdin.end(opts.stdin ?? '')
  })
}
