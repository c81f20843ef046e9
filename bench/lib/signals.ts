/** The signals that stop a bench process, each with the exit code it ends with (128 + its number). */
const STOPS = [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const

/** Calls `stop` on each signal that stops a bench process (every time: the caller decides about repeats). */
export function onStopSignal (stop: (signal: NodeJS.Signals, exitCode: number) => void): void {
  for (const [signal, code] of STOPS) process.on(signal, () => { stop(signal, code) })
}
