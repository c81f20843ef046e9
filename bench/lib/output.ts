/**
 * Keeps a bench process going when whoever reads its output stops reading (`npm run bench | head`,
 * a closed terminal): the run goes on to the end and writes its JSON file, and what can no longer
 * be printed is dropped. Without this the first write after the reader left ends the process with
 * an unhandled `EPIPE` and a stack trace, part-way through stopping its hubs or before the file.
 */
export function keepRunningWhenOutputCloses (): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return
      throw err
    })
  }
}
