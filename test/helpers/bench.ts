import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The bench's result files in bench/results/ now (to tell which one a run wrote). */
export function benchResultFiles (): Set<string> {
  const dir = join(ROOT, 'bench/results')
  return new Set(existsSync(dir) ? readdirSync(dir).filter((f) => /^bench-.*\.json$/.test(f)) : [])
}
