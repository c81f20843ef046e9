import type { Redis } from 'ioredis'
import { HubError } from '../errors.js'

export interface RedisDurability {
  maxmemoryPolicy: string
  aof: boolean
  /** `always`, `everysec`, `no`, or `unknown` when CONFIG is not allowed. */
  appendfsync: string
  rdb: boolean
  /** What a crash of Redis could lose of what the hub answered 202 for, in one sentence. */
  risk: string
}

function infoField (info: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info)
  return m?.[1]?.trim()
}

/**
 * Checks the Redis the cluster runs on before anything is accepted: eviction must be off
 * (`noeviction`) — an evicted key is a lost message — and reports how durable its persistence is.
 *
 * @throws HubError EGIF_ERR_REDIS_EVICTION when Redis may evict keys.
 * @throws HubError EGIF_ERR_REDIS_VERSION when the stream queue is chosen and Redis is older than 6.2 (it needs `XAUTOCLAIM`).
 */
export async function checkRedis (redis: Redis, opts: { streamQueue?: boolean } = {}): Promise<RedisDurability> {
  if (opts.streamQueue === true) {
    const version = infoField(await redis.info('server'), 'redis_version') ?? '0'
    const [major, minor] = version.split('.').map(Number)
    if (major < 6 || (major === 6 && minor < 2)) {
      throw new HubError('EGIF_ERR_REDIS_VERSION', `Redis ${version} is too old for cluster.queue "stream": it needs 6.2 or later`)
    }
  }
  const memory = await redis.info('memory')
  const persistence = await redis.info('persistence')
  const maxmemoryPolicy = infoField(memory, 'maxmemory_policy') ?? 'unknown'
  if (maxmemoryPolicy !== 'noeviction') {
    throw new HubError('EGIF_ERR_REDIS_EVICTION', `Redis maxmemory-policy is "${maxmemoryPolicy}": Redis could evict stored messages and queued deliveries. Set "maxmemory-policy noeviction" (redis.conf or CONFIG SET) and start again`)
  }
  const aof = infoField(persistence, 'aof_enabled') === '1'
  let appendfsync = 'unknown'
  try {
    const r = await redis.config('GET', 'appendfsync') as string[]
    if (r.length === 2) appendfsync = r[1]
  } catch {
    // Managed Redis often disables CONFIG; the report says what is unknown.
  }
  const saves = infoField(persistence, 'rdb_last_save_time')
  let rdb = false
  try {
    const r = await redis.config('GET', 'save') as string[]
    rdb = r.length === 2 && r[1].trim() !== ''
  } catch {
    rdb = saves !== undefined && saves !== '0'
  }
  let risk: string
  if (aof && appendfsync === 'always') risk = 'AOF with appendfsync always: a Redis crash or power loss loses nothing the hub acknowledged'
  else if (aof && appendfsync === 'everysec') risk = 'AOF with appendfsync everysec: a Redis crash loses nothing acknowledged; a power loss or kernel crash can lose about the last second of acknowledged messages'
  else if (aof) risk = `AOF with appendfsync ${appendfsync}: a power loss can lose an unknown amount of acknowledged messages`
  else if (rdb) risk = 'no AOF, RDB snapshots only: a Redis crash loses every message acknowledged since the last snapshot'
  else risk = 'no persistence at all: a Redis restart loses every stored message and queued delivery'
  return { maxmemoryPolicy, aof, appendfsync, rdb, risk }
}
