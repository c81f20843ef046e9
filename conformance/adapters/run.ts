import { conformanceChecks, NotApplicable } from './checks.js'
import type { AdapterSubject, Check, CheckResult } from './types.js'

/**
 * Watches for unhandled rejections while `fn` runs. An adapter that leaves a promise rejected and
 * unobserved (a timer's callback, a socket's error) would crash a hub that runs with the default
 * `--unhandled-rejections=throw`.
 */
export async function watchUnhandled<T> (fn: () => Promise<T>): Promise<{ value: T, unhandled: unknown[] }> {
  const unhandled: unknown[] = []
  const listener = (reason: unknown): void => { unhandled.push(reason) }
  process.on('unhandledRejection', listener)
  try {
    const value = await fn()
    // Give rejections made in the last turns a chance to be reported.
    await new Promise((resolve) => setTimeout(resolve, 50))
    return { value, unhandled }
  } finally {
    process.off('unhandledRejection', listener)
  }
}

export async function runCheck (c: Check): Promise<CheckResult & { notApplicable?: boolean }> {
  try {
    await c.run()
    return { name: c.name, ok: true }
  } catch (err) {
    if (err instanceof NotApplicable) return { name: c.name, ok: true, notApplicable: true, detail: err.message }
    return { name: c.name, ok: false, detail: err instanceof Error ? err.message : String(err) }
  }
}

/**
 * Runs the whole adapter conformance suite and returns one result per check, the last being
 * "no unhandled rejections". Used by `egif adapter test`; tap tests use `tapConformance`.
 */
export async function runConformance (subject: AdapterSubject, opts: { fixturesDir?: string, onResult?: (r: CheckResult & { notApplicable?: boolean }) => void } = {}): Promise<Array<CheckResult & { notApplicable?: boolean }>> {
  const { value: results, unhandled } = await watchUnhandled(async () => {
    const out: Array<CheckResult & { notApplicable?: boolean }> = []
    for (const c of conformanceChecks(subject, opts.fixturesDir)) {
      const r = await runCheck(c)
      opts.onResult?.(r)
      out.push(r)
    }
    return out
  })
  const last = { name: 'no unhandled rejections', ok: unhandled.length === 0, detail: unhandled.map(String).join('; ') || undefined }
  opts.onResult?.(last)
  return [...results, last]
}
