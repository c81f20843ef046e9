import { isHubError } from '../errors.js'
import { EXIT, parse } from './args.js'
import { runHub } from './run-hub.js'

const HELP = `
Usage: egif start [--config <file>]

Starts the hub. Embedded mode (one process, state in the data directory) unless REDIS_URL is set.
Environment: PORT, EGIF_DATA_DIR and REDIS_URL override the configuration; EGIF_CONFIG names the
configuration file when --config is not given (default ./egif.yaml).
On SIGTERM or SIGINT the hub stops taking messages (503, readiness false), lets deliveries in
flight finish, and exits 0.

Exit codes: 0 stopped cleanly · 4 the configuration is invalid or unreadable · 3 cannot listen
`

export async function start (argv: string[]): Promise<number> {
  const { values } = parse(argv, { config: { type: 'string', short: 'c' } }, HELP)
  const file = (values.config as string | undefined) ?? process.env.EGIF_CONFIG ?? 'egif.yaml'
  let running
  try {
    running = await runHub(file)
  } catch (err) {
    process.stderr.write(`egif start: ${(err as Error).message}\n`)
    if (isHubError(err) && err.code.startsWith('EGIF_ERR_CONFIG')) return EXIT.INPUT
    if (isHubError(err) && (err.code === 'EGIF_ERR_SCHEMA_LOAD' || err.code.startsWith('EGIF_ERR_ADAPTER') || err.code.startsWith('EGIF_ERR_KEY'))) return EXIT.INPUT
    return EXIT.UNAVAILABLE
  }
  return await new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      running.hub.log.info({ signal }, 'shutting down')
      running.stop().then(() => { resolve(EXIT.OK) }, (err: unknown) => {
        running.hub.log.error({ err }, 'shutdown failed')
        resolve(EXIT.UNAVAILABLE)
      })
    }
    process.once('SIGTERM', () => { stop('SIGTERM') })
    process.once('SIGINT', () => { stop('SIGINT') })
  })
}
