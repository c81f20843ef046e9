/**
 * Waits `ms`, or less when `signal` aborts; never rejects. Inbound adapters poll with it so that
 * shutdown ends the wait at once instead of after a whole interval.
 */
export async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
