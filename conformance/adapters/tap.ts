import type { Test } from 'tap'
import { conformanceChecks, NotApplicable } from './checks.js'
import { watchUnhandled } from './run.js'
import type { AdapterSubject } from './types.js'

/**
 * Runs the adapter conformance suite inside a tap test, one subtest per check. Checks that do not
 * apply (the stand-in cannot play a part) are reported as passing with the reason, never skipped:
 * the subject decides what its legacy system can do.
 */
export async function tapConformance (t: Test, subject: AdapterSubject, fixturesDir?: string): Promise<void> {
  const { unhandled } = await watchUnhandled(async () => {
    for (const c of conformanceChecks(subject, fixturesDir)) {
      await t.test(c.name, async (t) => {
        try {
          await c.run()
          t.pass('conforms')
        } catch (err) {
          if (err instanceof NotApplicable) {
            t.pass(`not applicable: ${err.message}`)
            return
          }
          throw err
        }
      })
    }
  })
  t.same(unhandled.map(String), [], 'no unhandled rejections')
}
