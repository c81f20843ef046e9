import t from 'tap'
import { tapConformance } from '../../conformance/adapters/index.js'
import subject from '../../adapters/http-push/conformance.js'

t.test('http-push passes the adapter conformance suite', async (t) => {
  await tapConformance(t, subject)
})
