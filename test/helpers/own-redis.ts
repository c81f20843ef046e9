import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { freePort } from './child-hub.js'

export interface OwnRedis {
  port: number
  url: string
  dir: string
  proc: ChildProcess
  /** SIGKILL, by pid: a crash. */
  kill: () => Promise<void>
  /** Starts it again on the same port and folder (AOF, if on, is replayed). */
  restart: () => Promise<void>
}

/**
 * A redis-server of the test's own, on a free port with its own folder, for tests that kill,
 * restart or reconfigure Redis. It is stopped by its pid when the test ends; the machine's shared
 * Redis is never touched.
 */
export async function ownRedis (t: Test, args: string[] = ['--appendonly', 'no']): Promise<OwnRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'egif-redis-'))
  const start = async (): Promise<ChildProcess> => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...args], { stdio: 'ignore' })
    const deadline = Date.now() + 10000
    for (;;) {
      const r = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
      r.on('error', () => {})
      try {
        await r.connect()
        // Loading the AOF answers LOADING until done.
        if (await r.ping() === 'PONG') { r.disconnect(); return proc }
      } catch { /* not up yet */ }
      r.disconnect()
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode} (is it installed?)`)
      if (Date.now() > deadline) throw new Error('redis-server did not start in 10 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const own: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    proc: await start(),
    kill: async () => {
      if (own.proc.exitCode !== null || own.proc.signalCode !== null) return
      const exited = new Promise((resolve) => own.proc.once('exit', resolve))
      own.proc.kill('SIGKILL')
      await exited
    },
    restart: async () => {
      await own.kill()
      own.proc = await start()
    }
  }
  t.teardown(async () => {
    await own.kill()
    rmSync(dir, { recursive: true, force: true })
  })
  return own
}
