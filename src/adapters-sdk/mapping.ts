import { HubError } from '../errors.js'

/**
 * Where one field of a mapped document comes from. A string is a path into the source (`"amount"`,
 * `"payer.name"`, `"items.0.code"`); `{ from, type }` converts the text a legacy system keeps
 * (`" 1,250.50 "` → `1250.5`); `{ const }` is a fixed value; `{ template }` joins fields
 * (`"RD-{year}-{seq}"`).
 */
export type FieldSource =
  | string
  | {
    from: string
    /** Default `string`. Numbers accept thousands separators; booleans accept true/false, 1/0, Y/N. */
    type?: 'string' | 'number' | 'integer' | 'boolean'
    /** Used when the source field is missing or blank. Without it a missing field is an error. */
    default?: unknown
    /** Default `true`; `false` leaves the target out when the source is missing or blank. */
    required?: boolean
  }
  | { const: unknown }
  | { template: string }

/** Target path → source, e.g. `{ "orderId": "ORDER_NO", "amount": { "from": "AMT", "type": "number" } }`. */
export type FieldMapping = Record<string, FieldSource>

/** JSON Schema of a {@link FieldMapping}, for adapters' `configSchema`. */
export const fieldMappingSchema = {
  type: 'object',
  additionalProperties: {
    anyOf: [
      { type: 'string', minLength: 1 },
      {
        type: 'object',
        additionalProperties: false,
        required: ['from'],
        properties: {
          from: { type: 'string', minLength: 1 },
          type: { enum: ['string', 'number', 'integer', 'boolean'] },
          default: {},
          required: { type: 'boolean' }
        }
      },
      { type: 'object', additionalProperties: false, required: ['const'], properties: { const: {} } },
      { type: 'object', additionalProperties: false, required: ['template'], properties: { template: { type: 'string' } } }
    ]
  }
} as const

/**
 * JSON Schema of an inbound adapter's `routing` section: where each record's receiver, message id
 * and conversation come from (field sources), and the fixed document type and version.
 * @param defaultReceiver the receiver's source when the section is left out.
 */
export function routingMappingSchema (defaultReceiver: FieldSource): Record<string, unknown> {
  const source = fieldMappingSchema.additionalProperties
  return {
    type: 'object',
    additionalProperties: false,
    required: ['receiver'],
    default: { receiver: defaultReceiver },
    properties: {
      receiver: source,
      messageId: source,
      conversationId: source,
      documentType: { type: 'string' },
      documentVersion: { type: 'string' }
    }
  }
}

/** Reads `a.b.0.c` from a value; `undefined` when any step is missing. */
export function getPath (source: unknown, path: string): unknown {
  let cur: unknown = source
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** Writes `a.b.0.c` into an object, making objects (or arrays, for numeric steps) on the way. */
export function setPath (target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let cur: Record<string, unknown> = target
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]
    // Paths come from configuration, but never let one reach the prototype chain.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `mapping target "${path}" is not allowed`)
    if (cur[key] === undefined) cur[key] = /^\d+$/.test(keys[i + 1]) ? [] : {}
    cur = cur[key] as Record<string, unknown>
  }
  const last = keys[keys.length - 1]
  if (last === '__proto__' || last === 'constructor' || last === 'prototype') throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `mapping target "${path}" is not allowed`)
  cur[last] = value
}

function blank (v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '')
}

function convert (value: unknown, type: 'string' | 'number' | 'integer' | 'boolean', field: string): unknown {
  const text = typeof value === 'string' ? value.trim() : value
  switch (type) {
    case 'string':
      return typeof text === 'string' ? text : String(text)
    case 'number':
    case 'integer': {
      const n = typeof text === 'number' ? text : typeof text === 'string' && /^[+-]?[\d,]*\.?\d+$/.test(text) ? Number(text.replace(/,/g, '')) : NaN
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) {
        throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `field "${field}": "${String(value)}" is not ${type === 'integer' ? 'an integer' : 'a number'}`, { field })
      }
      return n
    }
    case 'boolean': {
      if (typeof text === 'boolean') return text
      const s = String(text).toLowerCase()
      if (['true', '1', 'y', 'yes'].includes(s)) return true
      if (['false', '0', 'n', 'no'].includes(s)) return false
      throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `field "${field}": "${String(value)}" is not a boolean`, { field })
    }
  }
}

/**
 * Builds a document from a legacy record by a declared mapping. Pure. Throws
 * `EGIF_ERR_ADAPTER_MAPPING` naming the field when a required field is missing or does not convert.
 */
export function applyMapping (source: unknown, mapping: FieldMapping): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [target, spec] of Object.entries(mapping)) {
    if (typeof spec === 'object' && 'const' in spec) {
      setPath(out, target, structuredClone(spec.const))
      continue
    }
    if (typeof spec === 'object' && 'template' in spec) {
      setPath(out, target, spec.template.replace(/\{([^}]+)\}/g, (_m, p: string) => {
        const v = getPath(source, p)
        if (blank(v)) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `field "${p}" (for "${target}") is missing`, { field: p })
        return String(v).trim()
      }))
      continue
    }
    const from = typeof spec === 'string' ? spec : spec.from
    const opts: Exclude<FieldSource, string | { const: unknown } | { template: string }> = typeof spec === 'string' ? { from } : spec
    const raw = getPath(source, from)
    if (blank(raw)) {
      if (opts.default !== undefined) setPath(out, target, structuredClone(opts.default))
      else if (opts.required !== false) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `field "${from}" (for "${target}") is missing`, { field: from })
      continue
    }
    setPath(out, target, typeof raw === 'object' ? structuredClone(raw) : convert(raw, opts.type ?? (typeof raw === 'string' ? 'string' : typeof raw as 'number' | 'boolean'), from))
  }
  return out
}
