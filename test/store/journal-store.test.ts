import t from 'tap'
import { JournalStore } from '../../src/store/journal-store.js'
import { tmpDir } from '../helpers/tmp.js'
import { storeContract } from './contract.js'

storeContract(t, async (t) => {
  const dir = tmpDir(t)
  return { open: async () => await JournalStore.open(dir, { segmentBytes: 512 }) }
})
