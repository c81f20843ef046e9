import t from 'tap'
import { Redis } from 'ioredis'
import { hashApiKey } from '../../src/registry/participants.js'
import { FIXTURE_TYPES, KEYS, NOTE, startCountingSink, startSink, until } from '../helpers/hub.js'
import { freePort, startChildHub, writeConfig } from '../helpers/child-hub.js'
import { ownRedis } from '../helpers/own-redis.js'
import { tmpDir } from '../helpers/tmp.js'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/egif.js', import.meta.url))

function config (dir: string, sinkUrl: string): unknown {
  return {
    hub: { id: 'OUTAGE-HUB', host: '127.0.0.1', dataDir: `${dir}/data`, logLevel: 'info' },
    cluster: { prefix: 'outage', lockDurationMs: 2000, sweepIntervalMs: 2000 },
    delivery: { maxAttempts: 50, initialBackoffMs: 50, maxBackoffMs: 500, timeoutMs: 2000, concurrency: 4 },
    documentTypes: { builtin: false, folders: [FIXTURE_TYPES + 'test-note'] },
    participants: [
      { id: 'TH-A', name: { en: 'A' }, apiKeys: [hashApiKey(KEYS.A)] },
      { id: 'TH-C', name: { en: 'C' }, delivery: { mode: 'push', adapter: 'http-push', config: { url: sinkUrl } } }
    ],
    routes: [{ from: 'TH-A', to: '*', types: ['*'] }]
  }
}

async function send (url: string, id: string): Promise<{ status: number, ms: number, code?: string }> {
  const t0 = Date.now()
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.A}`, 'content-type': 'application/xml', 'egif-message-id': id, 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C' },
    body: NOTE(id)
  })
  const body = await res.json() as { code?: string }
  return { status: res.status, ms: Date.now() - t0, code: body.code }
}

t.test('the hub refuses a Redis that may evict keys, saying how to fix it', async (t) => {
  const redis = await ownRedis(t, ['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'])
  const dir = tmpDir(t)
  const cfg = writeConfig(dir, config(dir, 'http://127.0.0.1:9/'))
  const out = await new Promise<{ code: number, err: string }>((resolve) => {
    const p = spawn(process.execPath, [BIN, 'start', '--config', cfg], { env: { ...process.env, REDIS_URL: redis.url, PORT: '0' } })
    let err = ''
    p.stderr.on('data', (d: Buffer) => { err += d.toString() })
    p.on('close', (code) => { resolve({ code: code ?? -1, err }) })
  })
  t.not(out.code, 0, 'it does not start')
  t.match(out.err, /maxmemory-policy is "allkeys-lru".*noeviction/)
})

t.test('Redis away: intake answers 503 at once and readiness turns false; back: everything resumes', async (t) => {
  const redis = await ownRedis(t)
  const dir = tmpDir(t)
  const sink = await startSink(t)
  const cfg = writeConfig(dir, config(dir, sink.url))
  const hub = await startChildHub(cfg, await freePort(), { REDIS_URL: redis.url })
  t.teardown(() => { hub.proc.kill('SIGKILL') })
  const logs = hub.output()
  t.match(logs, /Redis persistence: no persistence at all/, 'the persistence found is reported at start')

  t.equal((await send(hub.url, 'before-1')).status, 202)
  await until(() => sink.requests.length === 1, 'first delivery')

  await redis.kill()
  await until(async () => (await fetch(`${hub.url}/ready`)).status === 503, 'readiness false', 10000)
  const during = await send(hub.url, 'during-1')
  t.equal(during.status, 503, 'intake refuses while Redis is away')
  t.equal(during.code, 'EGIF_ERR_STORAGE_UNAVAILABLE')
  t.ok(during.ms < 1000, `and answers quickly (${during.ms} ms)`)
  t.equal((await fetch(`${hub.url}/health`)).status, 200, 'the process is alive all the same')

  await redis.restart()
  await until(async () => (await fetch(`${hub.url}/ready`)).status === 200, 'readiness back', 20000)
  const after = await send(hub.url, 'after-1')
  t.equal(after.status, 202, 'intake resumes on its own')
  // A known trap: BullMQ workers that stop taking jobs after a reconnect. This one must deliver.
  await until(() => sink.requests.some((r) => r.headers['egif-message-id'] === 'after-1'), 'delivery after Redis came back', 20000)
  t.pass('the worker resumed after the reconnect')
  hub.proc.kill('SIGTERM')
  t.equal(await hub.exited, 0)
})

t.test('AOF appendfsync always: kill -9 of Redis right after a burst of 202s loses nothing', async (t) => {
  const redis = await ownRedis(t, ['--appendonly', 'yes', '--appendfsync', 'always'])
  const dir = tmpDir(t)
  // The recipient is slow, so most accepted messages are still queued when Redis dies.
  const { url: sinkUrl, seen } = await startCountingSink(t, 20)
  const cfg = writeConfig(dir, config(dir, sinkUrl))
  const hub = await startChildHub(cfg, await freePort(), { REDIS_URL: redis.url })
  t.teardown(() => { hub.proc.kill('SIGKILL') })
  t.match(hub.output(), /appendfsync always: a Redis crash or power loss loses nothing/)

  const accepted: string[] = []
  await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const r = await send(hub.url, `aof-${i}`)
    if (r.status === 202) accepted.push(`aof-${i}`)
  }))
  await redis.kill()
  const deliveredBeforeCrash = seen.size
  await redis.restart()
  const check = new Redis(redis.port, '127.0.0.1')
  t.teardown(() => { check.disconnect() })
  // A message's record stays after its delivery, so this reads the same whether or not the hub,
  // reconnected by now, has delivered more since the restart.
  const back = await Promise.all(accepted.map(async (id) => await check.exists(`outage:m:TH-A/${id}`)))
  t.same(accepted.filter((_, i) => back[i] !== 1), [], 'every accepted message came back from the AOF')
  await until(() => accepted.every((id) => seen.has(id)), 'every accepted message delivered after the Redis crash', 60000)
  const duplicates = [...seen.values()].filter((n) => n > 1).length
  t.comment(`accepted ${accepted.length}, delivered before the crash ${deliveredBeforeCrash}, delivered in all ${seen.size}, redelivered ${duplicates}, lost 0`)
  t.equal(accepted.length, 200, 'all were accepted')
  hub.proc.kill('SIGTERM')
  t.equal(await hub.exited, 0)
})
