import { Ajv, type ValidateFunction } from 'ajv'
import { HubError } from '../errors.js'
import type { Adapter } from './types.js'
import { createHttpPushAdapter } from '../../adapters/http-push/index.js'
import mailbox from '../../adapters/mailbox/index.js'
import restJson from '../../adapters/rest-json/index.js'
import fileDrop from '../../adapters/file-drop/index.js'
import soapEcms from '../../adapters/soap-ecms/index.js'
import { createSqlTableAdapter } from '../../adapters/sql-table/index.js'

/**
 * The adapters shipped with the hub. http-push and sql-table hold connections (kept-alive HTTP,
 * database pools), so each hub gets its own, closed when that hub stops.
 */
export function builtinAdapters (): Array<Adapter<any>> {
  return [createHttpPushAdapter(), mailbox, restJson, fileDrop, soapEcms, createSqlTableAdapter()]
}

/** Installed adapters by name, each with its config schema compiled once. */
export class AdapterRegistry {
  private readonly adapters = new Map<string, { adapter: Adapter<any>, validate: ValidateFunction }>()
  private readonly ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false })

  constructor (adapters: Array<Adapter<any>> = builtinAdapters()) {
    for (const a of adapters) this.register(a)
  }

  register (adapter: Adapter<any>): void {
    if (this.adapters.has(adapter.name)) throw new HubError('EGIF_ERR_ADAPTER_CONFIG', `adapter "${adapter.name}" is registered twice`)
    this.adapters.set(adapter.name, { adapter, validate: this.ajv.compile(adapter.configSchema) })
  }

  /** Looks an adapter up and validates (and completes with defaults) a participant's config for it. */
  resolve (name: string, config: Record<string, unknown>, where: string): { adapter: Adapter<any>, config: Record<string, unknown> } {
    const entry = this.adapters.get(name)
    if (entry === undefined) {
      throw new HubError('EGIF_ERR_ADAPTER_UNKNOWN', `${where}: adapter "${name}" is not installed (installed: ${[...this.adapters.keys()].join(', ')})`)
    }
    const copy = structuredClone(config)
    if (!entry.validate(copy)) {
      const why = (entry.validate.errors ?? []).map((e) => `${e.instancePath === '' ? '(config)' : e.instancePath} ${e.message ?? ''}`).join('; ')
      throw new HubError('EGIF_ERR_ADAPTER_CONFIG', `${where}: configuration for adapter "${name}" is invalid: ${why}`)
    }
    return { adapter: entry.adapter, config: copy }
  }

  names (): string[] {
    return [...this.adapters.keys()]
  }
}
