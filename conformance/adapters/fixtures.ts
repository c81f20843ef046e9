import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { RoutingHeader } from '../../src/adapters-sdk/index.js'

/**
 * One fixture pair, `fixtures/<case>/case.json`:
 *
 * ```json
 * { "direction": "outbound",
 *   "standard": { "routing": { "messageId": "…", … }, "contentType": "application/json", "bodyFile": "standard.json" },
 *   "legacyFile": "legacy.xml" }
 * ```
 * `direction` `outbound` checks `fromStandard(standard) = legacy`; `inbound` checks
 * `toStandard(legacy) = standard`. The legacy side is `legacy` (any JSON value) or `legacyFile`
 * (text, compared as text). `config` is merged over the subject's configuration for this case.
 */
export interface FixtureCase {
  name: string
  dir: string
  direction: 'outbound' | 'inbound'
  description?: string
  config?: Record<string, unknown>
  standard: { routing: Partial<RoutingHeader>, contentType: string, body: Buffer }
  legacy: unknown
}

export function loadFixtures (dir: string): FixtureCase[] {
  if (!existsSync(dir)) return []
  const cases: FixtureCase[] = []
  for (const name of readdirSync(dir).sort()) {
    const caseDir = join(dir, name)
    if (!statSync(caseDir).isDirectory()) continue
    const file = join(caseDir, 'case.json')
    let raw: any
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new Error(`fixture ${file}: ${(err as Error).message}`)
    }
    if (raw.direction !== 'outbound' && raw.direction !== 'inbound') throw new Error(`fixture ${file}: "direction" must be "outbound" or "inbound"`)
    const std = raw.standard ?? {}
    if (typeof std.bodyFile !== 'string' && typeof std.body !== 'string') throw new Error(`fixture ${file}: "standard" needs "bodyFile" (or "body")`)
    const body = typeof std.bodyFile === 'string' ? readFileSync(join(caseDir, std.bodyFile)) : Buffer.from(std.body as string)
    const legacy = typeof raw.legacyFile === 'string' ? readFileSync(join(caseDir, raw.legacyFile), 'utf8') : raw.legacy
    if (legacy === undefined) throw new Error(`fixture ${file}: needs "legacy" or "legacyFile"`)
    cases.push({
      name,
      dir: caseDir,
      direction: raw.direction,
      description: raw.description,
      config: raw.config,
      standard: { routing: std.routing ?? {}, contentType: std.contentType ?? 'application/json', body },
      legacy
    })
  }
  return cases
}
