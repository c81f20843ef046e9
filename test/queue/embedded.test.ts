import t from 'tap'
import { EmbeddedQueue } from '../../src/queue/embedded.js'
import { queueContract } from './contract.js'

queueContract(t, async () => new EmbeddedQueue())
