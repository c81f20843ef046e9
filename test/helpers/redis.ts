import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { until } from './hub.js'

/** The shared Redis of the machine (CI starts it). Tests never stop or reconfigure it. */
export const SHARED_REDIS = process.env.EGIF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/**
 * A key prefix of the test's own on the shared Redis; its keys are deleted when the test ends.
 * Fails the test (never skips it) when Redis does not answer.
 */
export async function redisPrefix (t: Test, url = SHARED_REDIS): Promise<string> {
  const prefix = `egif-test-${randomUUID().slice(0, 8)}`
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  r.on('error', () => {})
  try {
    await r.connect()
    await r.ping()
  } catch (err) {
    throw new Error(`Redis at ${url} does not answer (${(err as Error).message}): tests named *.redis.test.ts need it`)
  }
  t.teardown(async () => {
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await r.del(...keys)
    } while (cursor !== '0')
    r.disconnect()
  })
  return prefix
}

/**
 * The commands clients (not scripts) send for keys under `prefix` while `work` runs, as Redis sees
 * them; a script is `script` whether it came as EVALSHA or (the first time on a connection) EVAL.
 * With `args`, another command is followed by its arguments after the key (`hget data`). With
 * `settled`, what `work` set going goes on being watched until `settled` says the list is whole
 * (at most 10 s; the caller's assertions then show what came).
 */
export async function commandsSent (prefix: string, work: () => Promise<void>, opts: { args?: boolean, settled?: (seen: string[]) => boolean } = {}): Promise<string[]> {
  const seen: string[] = []
  const end = `${prefix}:commands-sent-end:${randomUUID()}`
  let ended = false
  const client = new Redis(SHARED_REDIS)
  const monitor = await client.monitor()
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[1] === end) { ended = true; return }
    const name = args[0].toLowerCase()
    if (source !== 'lua' && args.some((a) => a.startsWith(`${prefix}:`))) seen.push(name === 'eval' || name === 'evalsha' ? 'script' : opts.args === true ? `${name} ${args.slice(2).join(' ')}`.trim() : name)
  })
  try {
    await work()
    if (opts.settled !== undefined) await until(() => opts.settled!(seen), 'the commands to settle', 10_000).catch(() => {})
    // Redis shows commands to a monitor in the order it runs them: once the monitor has seen a
    // marker sent now, it has seen every command that ran before it.
    await client.echo(end)
    await until(() => ended, 'the monitor to see the marker', 10_000)
  } finally {
    client.disconnect()
    // Lines Redis sent before it saw the disconnect arrive after the client left monitoring mode,
    // and ioredis reports each as a reply nobody asked for: nothing this helper still reads.
    monitor.on('error', () => {})
    monitor.disconnect()
  }
  return seen
}
