import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { Ajv, type ErrorObject } from 'ajv'
import { LineCounter, parseDocument, isNode } from 'yaml'
import { HubError } from '../errors.js'
import { configSchema } from './schema.js'
import type { HubConfig } from './types.js'

/** Environment variables that override the file (documented in docs/configuration.md). */
export interface ConfigEnv {
  PORT?: string
  EGIF_DATA_DIR?: string
  REDIS_URL?: string
  EGIF_TRAIL_LOG?: string
}

function compileValidator () {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true, verbose: true })
  return ajv.compile(configSchema)
}

/** Turns an ajv error into a sentence that says what would fix it. */
function describe (err: ErrorObject): string {
  const where = err.instancePath === '' ? '(top level)' : err.instancePath
  switch (err.keyword) {
    case 'additionalProperties':
      return `${where}: unknown option "${String(err.params.additionalProperty)}" — remove it or check its spelling`
    case 'required':
      return `${where}: missing "${String(err.params.missingProperty)}" — add it`
    case 'enum':
      return `${where}: must be one of ${(err.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'pattern':
      return `${where}: ${err.message ?? 'does not match'}${err.parentSchema?.description !== undefined ? ` (${String(err.parentSchema.description)})` : ''}`
    default:
      return `${where}: ${err.message ?? 'is invalid'}`
  }
}

/** Line of a JSON-pointer path in the YAML source, for error messages. */
function lineOf (doc: ReturnType<typeof parseDocument>, counter: LineCounter, pointer: string): number | undefined {
  const path = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).map((p) => /^\d+$/.test(p) ? Number(p) : p)
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true)
    if (isNode(node) && node.range != null) return counter.linePos(node.range[0]).line
  }
  return undefined
}

/**
 * Reads, validates and resolves a configuration file (YAML or JSON). Relative paths inside it are
 * resolved against the file's folder. Errors name the file, the path inside it, its line and what
 * would fix it.
 */
export function loadConfig (file: string, env: ConfigEnv = process.env): HubConfig {
  const path = resolve(file)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new HubError('EGIF_ERR_CONFIG_READ', `${path}: cannot read the configuration file (${(err as Error).message})`)
  }
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new HubError('EGIF_ERR_CONFIG_READ', `${path}: ${doc.errors[0].message}`)
  }
  const raw = doc.toJS() as unknown
  return resolveConfig(raw, path, env, (pointer) => lineOf(doc, counter, pointer))
}

/**
 * Validates an already-parsed configuration object. `file` is used to resolve relative paths and in
 * error messages.
 */
export function resolveConfig (raw: unknown, file: string, env: ConfigEnv = process.env, lineOfPath?: (pointer: string) => number | undefined): HubConfig {
  const validate = compileValidator()
  const data = structuredClone(raw ?? {}) as Record<string, unknown>
  if (!validate(data)) {
    const errors = (validate.errors ?? []).slice(0, 10).map((e) => {
      // Point at the offending key itself when there is one.
      const at = e.keyword === 'additionalProperties' ? `${e.instancePath}/${String(e.params.additionalProperty)}` : e.instancePath
      const line = lineOfPath?.(at)
      return `  ${line !== undefined ? `line ${line}, ` : ''}${describe(e)}`
    })
    throw new HubError('EGIF_ERR_CONFIG_INVALID', `${file}: the configuration is invalid:\n${errors.join('\n')}`, { file })
  }
  const cfg = data as unknown as HubConfig
  cfg.file = file
  cfg.baseDir = dirname(file)
  const abs = (p: string): string => isAbsolute(p) ? p : resolve(cfg.baseDir, p)

  if (env.PORT !== undefined && env.PORT !== '') {
    const port = Number(env.PORT)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new HubError('EGIF_ERR_CONFIG_INVALID', `PORT=${env.PORT}: must be an integer from 0 to 65535`)
    }
    cfg.hub.port = port
  }
  cfg.hub.dataDir = env.EGIF_DATA_DIR !== undefined && env.EGIF_DATA_DIR !== '' ? resolve(env.EGIF_DATA_DIR) : abs(cfg.hub.dataDir)
  if (env.REDIS_URL !== undefined && env.REDIS_URL !== '') cfg.redisUrl = env.REDIS_URL
  if (env.EGIF_TRAIL_LOG !== undefined && env.EGIF_TRAIL_LOG !== '') cfg.trail.log = env.EGIF_TRAIL_LOG

  if (cfg.hub.tls !== undefined) {
    cfg.hub.tls.keyFile = abs(cfg.hub.tls.keyFile)
    cfg.hub.tls.certFile = abs(cfg.hub.tls.certFile)
    cfg.hub.tls.clientCaFiles = cfg.hub.tls.clientCaFiles.map(abs)
  }
  if (cfg.hub.key !== undefined) {
    for (const k of [cfg.hub.key, ...cfg.hub.key.previous]) {
      if (k.pemFile !== undefined) k.pemFile = abs(k.pemFile)
      if (k.certFile !== undefined) k.certFile = abs(k.certFile)
      if (k.pkcs12File !== undefined) k.pkcs12File = abs(k.pkcs12File)
    }
  }
  cfg.documentTypes.folders = cfg.documentTypes.folders.map(abs)
  for (const t of cfg.documentTypes.xsd) t.baseDir = abs(t.baseDir)
  for (const p of cfg.participants) {
    p.clientCertificates = p.clientCertificates.map((c) => /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(c) ? c.toUpperCase() : abs(c))
    p.signingCertificates = p.signingCertificates.map(abs)
    if (p.signing !== undefined) {
      for (const k of ['keyFile', 'certFile', 'pkcs12File'] as const) {
        const v = p.signing[k]
        if (v !== undefined) p.signing[k] = abs(v)
      }
    }
    for (const a of p.signingAuthorities) a.caFile = abs(a.caFile)
  }
  checkReferences(cfg)
  return cfg
}

/** Cross-references a schema cannot express: unique ids, routes naming known participants. */
function checkReferences (cfg: HubConfig): void {
  const seen = new Set<string>()
  cfg.participants.forEach((p, i) => {
    if (seen.has(p.id)) throw new HubError('EGIF_ERR_CONFIG_REFERENCE', `${cfg.file}: /participants/${i}/id: participant "${p.id}" is declared twice — give each participant one entry`)
    seen.add(p.id)
    if (p.delivery.mode === 'push' && (p.delivery.adapter === undefined || p.delivery.adapter === '')) {
      throw new HubError('EGIF_ERR_CONFIG_INVALID', `${cfg.file}: /participants/${i}/delivery: push delivery needs "adapter" (for example http-push)`)
    }
  })
  cfg.operators.forEach((o, i) => {
    if (seen.has(o.id)) throw new HubError('EGIF_ERR_CONFIG_REFERENCE', `${cfg.file}: /operators/${i}/id: "${o.id}" is already a participant — operators need their own id`)
  })
  cfg.auditors.forEach((a, i) => {
    if (seen.has(a.id)) throw new HubError('EGIF_ERR_CONFIG_REFERENCE', `${cfg.file}: /auditors/${i}/id: "${a.id}" is already a participant — auditors need their own id`)
  })
  cfg.routes.forEach((r, i) => {
    for (const [side, sel] of [['from', r.from], ['to', r.to]] as const) {
      for (const id of Array.isArray(sel) ? sel : [sel]) {
        if (id !== '*' && !seen.has(id)) {
          throw new HubError('EGIF_ERR_CONFIG_REFERENCE', `${cfg.file}: /routes/${i}/${side}: unknown participant "${id}" — declare it under participants or fix the id`)
        }
      }
    }
  })
}
