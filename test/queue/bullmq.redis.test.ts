import t from 'tap'
import { BullMqQueue } from '../../src/queue/bullmq.js'
import { SHARED_REDIS, redisPrefix } from '../helpers/redis.js'
import { queueContract } from './contract.js'

queueContract(t, async () => {
  const prefix = await redisPrefix(t)
  return new BullMqQueue(SHARED_REDIS, { prefix })
})
