import { parseArgs, type ParseArgsConfig } from 'node:util'

/** Exit codes of the `egif` command (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** The hub or the validator refused something (4xx, invalid document). */
  REFUSED: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** The hub could not be reached or failed (5xx). */
  UNAVAILABLE: 3,
  /** A local file or configuration cannot be read. */
  INPUT: 4
} as const

export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>> (argv: string[], options: T, help: string): { values: Record<string, string | boolean | string[] | undefined>, positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
    if ((r.values as Record<string, unknown>).help === true) {
      process.stdout.write(help.trimStart())
      process.exit(EXIT.OK)
    }
    return r as { values: Record<string, string | boolean | string[] | undefined>, positionals: string[] }
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError((err as Error).message)
  }
}

/** Hub URL and API key from flags or the environment (EGIF_HUB_URL, EGIF_API_KEY). */
export function connection (values: Record<string, unknown>): { hub: string, key: string } {
  const hub = (values.hub as string | undefined) ?? process.env.EGIF_HUB_URL ?? 'http://127.0.0.1:8080'
  const key = (values.key as string | undefined) ?? process.env.EGIF_API_KEY
  if (key === undefined || key === '') throw new UsageError('an API key is needed: --key <key> or EGIF_API_KEY')
  return { hub: hub.replace(/\/+$/, ''), key }
}
