import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Where one log's files live: `<trail dir>/<log>/records.jsonl` and `checkpoints.jsonl`. */
export function logDir (trailDir: string, log: string): string {
  return join(trailDir, log)
}
export const RECORDS_FILE = 'records.jsonl'
export const CHECKPOINTS_FILE = 'checkpoints.jsonl'

/** Log names are path components: letters, digits and `. _ - @ :`, not starting with a dot. */
export const LOG_NAME = /^[A-Za-z0-9_@:-][A-Za-z0-9._@:-]{0,127}$/

/**
 * The log folders under a path an auditor names: a log folder itself, a trail folder holding
 * several logs, or a hub data directory (whose trail is in `trail/`).
 */
export function findLogDirs (path: string): string[] {
  if (existsSync(join(path, RECORDS_FILE))) return [path]
  const base = existsSync(join(path, 'trail')) && statSync(join(path, 'trail')).isDirectory() ? join(path, 'trail') : path
  if (!existsSync(base) || !statSync(base).isDirectory()) return []
  return readdirSync(base).sort().map((d) => join(base, d)).filter((d) => existsSync(join(d, RECORDS_FILE)))
}
