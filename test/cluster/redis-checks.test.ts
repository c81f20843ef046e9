import t from 'tap'
import type { Redis } from 'ioredis'
import { checkRedis } from '../../src/cluster/redis-checks.js'

/** A Redis that answers INFO and CONFIG GET as one configured so would. */
function fakeRedis (o: { version: string, policy?: string, aof?: boolean, appendfsync?: string }): Redis {
  return {
    info: async (section: string) => section === 'server'
      ? `# Server\r\nredis_version:${o.version}\r\n`
      : section === 'memory'
        ? `# Memory\r\nmaxmemory_policy:${o.policy ?? 'noeviction'}\r\n`
        : `# Persistence\r\naof_enabled:${o.aof === true ? 1 : 0}\r\nrdb_last_save_time:0\r\n`,
    config: async (_get: string, name: string) => name === 'appendfsync' ? ['appendfsync', o.appendfsync ?? 'always'] : ['save', '']
  } as unknown as Redis
}

t.test('with the stream queue, Redis older than 6.2 is refused with its version in the message', async (t) => {
  for (const version of ['5.0.14', '6.0.20', '6.1.0']) {
    await t.rejects(checkRedis(fakeRedis({ version }), { streamQueue: true }), { code: 'EGIF_ERR_REDIS_VERSION', message: new RegExp(`Redis ${version.replace(/\./g, '\\.')} is too old`) }, version)
  }
})

t.test('otherwise on to the eviction and persistence checks', async (t) => {
  t.match(await checkRedis(fakeRedis({ version: '5.0.14' })), { aof: false }, 'the default queue (BullMQ) does not ask for 6.2')
  t.match(await checkRedis(fakeRedis({ version: '6.2.0', aof: true }), { streamQueue: true }), { aof: true, appendfsync: 'always', risk: /loses nothing/ })
  t.match(await checkRedis(fakeRedis({ version: '7.0.15' })), { aof: false, risk: /no persistence at all/ })
  await t.rejects(checkRedis(fakeRedis({ version: '7.2.4', policy: 'allkeys-lru' })), { code: 'EGIF_ERR_REDIS_EVICTION' })
})
