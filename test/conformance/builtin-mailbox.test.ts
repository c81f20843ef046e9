import t from 'tap'
import { tapConformance } from '../../conformance/adapters/index.js'
import subject from '../../adapters/mailbox/conformance.js'

t.test('mailbox passes the adapter conformance suite', async (t) => {
  await tapConformance(t, subject)
})
