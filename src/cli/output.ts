/**
 * What a process does when whoever reads its output stops reading (`npm run bench | head`,
 * `egif trail export | head`, a log reader of `egif start` that went away). Without a rule the
 * first write after the reader left raises an unhandled `EPIPE`: a stack trace, and in a hub the
 * end of the process, after which pino's exit hook retries its last log line against the closed
 * pipe forever: the process neither serves nor exits.
 */

/** The exit code of a command whose standard output was closed by its reader: 128 + SIGPIPE, what a shell reports for a Unix tool stopped that way. */
export const EXIT_READER_GONE = 141

let ruled = false

function gone (err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED'
}

/** An output's error listener that drops what its gone reader can no longer take, and lets any other error through. */
function dropWhenGone (err: NodeJS.ErrnoException): void {
  if (gone(err)) return
  throw err
}

/**
 * For a service (the hub, the bench): what can no longer be printed is dropped and the process
 * goes on. Once a process: a process may start several hubs.
 */
export function keepRunningWhenOutputCloses (): void {
  if (ruled) return
  ruled = true
  process.stdout.on('error', dropWhenGone)
  process.stderr.on('error', dropWhenGone)
}

/**
 * For a command whose product is its standard output (`egif trail export`, `egif inbox fetch`):
 * when the reader has gone, the command stops at once, quietly, with {@link EXIT_READER_GONE},
 * as a Unix tool does (`cat big | head`). What the hub already answered stays done; a request
 * under way at that moment may or may not have reached it, as with any client stopped midway
 * (`egif send` again with the same `--id` is answered as already accepted). A closed standard
 * error only loses the commentary: the command goes on.
 */
export function stopWhenOutputCloses (): void {
  if (ruled) return
  ruled = true
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (gone(err)) process.exit(EXIT_READER_GONE)
    throw err
  })
  process.stderr.on('error', dropWhenGone)
}
