import { fieldMappingSchema, routingMappingSchema, signingConfigSchema, type FieldMapping, type FieldSource, type SigningConfig } from '../../src/adapters-sdk/index.js'
import type { FixedWidthField } from './records.js'

export interface FileDropConfig {
  /**
   * The folder. Outbound (`delivery`): where the hub writes documents for the legacy system.
   * Inbound: the folder the legacy system drops its files into; the adapter keeps `.processing/`,
   * `done/` and `failed/` beside them. It is never created: a missing folder (an unmounted share)
   * is an error, not an empty local folder.
   */
  dir: string
  /** Inbound: how files are read. Default `xml` (one document per file, sent as is). */
  format: 'csv' | 'fixed-width' | 'xml'
  /** Inbound: which file names are read, a regular expression. Default `\.(csv|txt|dat|xml)$` (case-insensitive). */
  pattern: string
  /** Inbound: text encoding of CSV and fixed-width files. Default `utf-8`; `windows-874` reads TIS-620 files. */
  encoding: 'utf-8' | 'windows-874'
  /** CSV: the field separator, default `,`; `columns` names the fields when the file has no header row. */
  csv: { delimiter: string, columns?: string[] }
  /** Fixed width: the fields of each line. */
  fixedWidth?: { fields: FixedWidthField[] }
  /**
   * Inbound: the routing of each document, from the record (`fields.<column>`, `file`, `record`).
   * `messageId` defaults to `{file}-{record}`: the same file dropped again gives the same ids, so the
   * hub drops the repeat.
   */
  routing: { receiver: FieldSource, messageId?: FieldSource, documentType?: string, documentVersion?: string, conversationId?: FieldSource }
  /** CSV and fixed width: the JSON document built from each record. */
  mapping?: FieldMapping
  /** Inbound: how often the folder is scanned, ms. Default 1000. */
  pollMs: number
  /** Inbound: a file is read only once its size and time have not changed for this long, ms. Default 1000. */
  settleMs: number
  /** Inbound: sign each document for a legacy system that cannot sign. */
  signing?: SigningConfig
  /** Outbound: write `<name>.egif.json` (routing, digest, seal) before the document. Default `true`. */
  envelope: boolean
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dir'],
  properties: {
    dir: { type: 'string', minLength: 1 },
    format: { enum: ['csv', 'fixed-width', 'xml'], default: 'xml' },
    pattern: { type: 'string', default: '\\.(csv|txt|dat|xml)$' },
    encoding: { enum: ['utf-8', 'windows-874'], default: 'utf-8' },
    csv: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { delimiter: { type: 'string', minLength: 1, maxLength: 1, default: ',' }, columns: { type: 'array', items: { type: 'string' } } }
    },
    fixedWidth: {
      type: 'object',
      additionalProperties: false,
      required: ['fields'],
      properties: {
        fields: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', additionalProperties: false, required: ['name', 'start', 'length'], properties: { name: { type: 'string' }, start: { type: 'integer', minimum: 1 }, length: { type: 'integer', minimum: 1 } } }
        }
      }
    },
    routing: routingMappingSchema({ from: 'fields.receiver' }),
    mapping: fieldMappingSchema,
    pollMs: { type: 'integer', minimum: 10, default: 1000 },
    settleMs: { type: 'integer', minimum: 0, default: 1000 },
    signing: signingConfigSchema,
    envelope: { type: 'boolean', default: true }
  }
} as const
