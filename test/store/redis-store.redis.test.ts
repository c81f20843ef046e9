import t from 'tap'
import { RedisStore } from '../../src/store/redis-store.js'
import { SHARED_REDIS, redisPrefix } from '../helpers/redis.js'
import { storeContract } from './contract.js'

storeContract(t, async (t) => {
  const prefix = await redisPrefix(t)
  return { open: async () => await RedisStore.open(SHARED_REDIS, { prefix }) }
})

t.test('an unreachable Redis is a clear storage error', async (t) => {
  await t.rejects(RedisStore.open('redis://127.0.0.1:9', {}, { retryStrategy: () => null }), { code: 'EGIF_ERR_STORAGE_UNAVAILABLE', message: /cannot connect to Redis/ })
})
