/**
 * Keeps a process going when whoever reads its output stops reading (`npm run bench | head`, a log
 * reader of `egif start` that went away): what can no longer be printed is dropped. Without this
 * the first write after the reader left raises an unhandled `EPIPE`; in a hub that ends the
 * process, and pino's exit hook then retries its last log line against the closed pipe forever:
 * the process neither serves nor exits.
 */
let kept = false

export function keepRunningWhenOutputCloses (): void {
  // Once a process: a process may start several hubs.
  if (kept) return
  kept = true
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return
      throw err
    })
  }
}
