import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { ParseOption, XmlDocument, XmlLibError, XsdValidator } from 'libxml2-wasm'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { DocumentTypeManifest } from '../../../src/registry/manifest.js'

// ajv-formats is published as CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

// Samples are parsed the way the hub treats untrusted input: no network, no external entities.
const PARSE = { option: ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE }

export interface Outcome { valid: boolean, errors: string[] }

/**
 * One document-type folder (`manifest.json` + schemas + samples) opened for testing: every
 * version's schema compiled once, documents validated with the same libraries the hub uses.
 * Call `dispose()` when done: the XSD validators live in WebAssembly memory.
 */
export class DocumentTypeFolder {
  readonly manifest: DocumentTypeManifest
  private readonly xsd = new Map<string, { doc: XmlDocument, validator: XsdValidator }>()
  private readonly json = new Map<string, ValidateFunction>()

  constructor (readonly dir: string) {
    this.manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DocumentTypeManifest
    for (const v of this.manifest.versions) {
      const file = this.schemaFile(v.version)
      if (this.manifest.format === 'xml') {
        const doc = XmlDocument.fromBuffer(readFileSync(file), { ...PARSE, url: file })
        try {
          this.xsd.set(v.version, { doc, validator: XsdValidator.fromDoc(doc) })
        } catch (err) {
          doc.dispose()
          throw err
        }
      } else {
        // One Ajv per schema so that schemas sharing an $id across types cannot collide.
        const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }))
        this.json.set(v.version, ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object))
      }
    }
  }

  get id (): string { return this.manifest.id }

  schemaFile (version: string): string {
    const v = this.manifest.versions.find((x) => x.version === version)
    if (v === undefined) throw new Error(`${this.id}: no version ${version}`)
    return join(this.dir, v.schema)
  }

  /** Sample files of one kind, sorted, as absolute paths. */
  samples (kind: 'valid' | 'invalid'): string[] {
    const dir = join(this.dir, 'samples', kind)
    if (!existsSync(dir)) return []
    return readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => join(dir, f))
  }

  /** The version label the document carries at `versionLocation`, or undefined when it carries none. */
  carriedVersion (bytes: Buffer): string | undefined {
    const loc = this.manifest.versionLocation
    if (this.manifest.format === 'xml') {
      if (loc?.xpath === undefined) return undefined
      const doc = XmlDocument.fromBuffer(bytes, PARSE)
      try {
        const value = doc.eval(loc.xpath, loc.namespaces)
        return typeof value === 'string' && value !== '' ? value : undefined
      } finally {
        doc.dispose()
      }
    }
    if (loc?.pointer === undefined) return undefined
    const value = jsonPointer(JSON.parse(bytes.toString('utf8')), loc.pointer)
    return typeof value === 'string' ? value : undefined
  }

  /** The XML root element as `{namespace}localName`. */
  rootOf (bytes: Buffer): string {
    const doc = XmlDocument.fromBuffer(bytes, PARSE)
    try {
      return `{${doc.root.namespaceUri}}${doc.root.name}`
    } finally {
      doc.dispose()
    }
  }

  /** Validates against one version's schema. A document that does not parse is reported invalid. */
  validate (bytes: Buffer, version: string): Outcome {
    if (this.manifest.format === 'json') {
      const fn = this.json.get(version)
      if (fn === undefined) throw new Error(`${this.id}: no version ${version}`)
      let value: unknown
      try {
        value = JSON.parse(bytes.toString('utf8'))
      } catch (err) {
        return { valid: false, errors: [`not JSON: ${(err as Error).message}`] }
      }
      const valid = fn(value)
      return { valid, errors: (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`) }
    }
    const xsd = this.xsd.get(version)
    if (xsd === undefined) throw new Error(`${this.id}: no version ${version}`)
    let doc: XmlDocument
    try {
      doc = XmlDocument.fromBuffer(bytes, PARSE)
    } catch (err) {
      return { valid: false, errors: [`not well-formed: ${(err as Error).message}`] }
    }
    try {
      xsd.validator.validate(doc)
      return { valid: true, errors: [] }
    } catch (err) {
      if (err instanceof XmlLibError) return { valid: false, errors: err.details.map((d) => d.message.trim()) }
      throw err
    } finally {
      doc.dispose()
    }
  }

  dispose (): void {
    for (const { doc, validator } of this.xsd.values()) {
      validator.dispose()
      doc.dispose()
    }
    this.xsd.clear()
  }
}

/** RFC 6901 JSON Pointer lookup; undefined when the path does not exist. */
export function jsonPointer (value: unknown, pointer: string): unknown {
  if (pointer === '') return value
  if (!pointer.startsWith('/')) throw new Error(`not a JSON Pointer: ${pointer}`)
  let cur = value
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** xmllint's exit status: 0 valid, 3 the document does not validate, 4/5 the schema cannot be used. */
export type XmllintResult = { available: false } | { available: true, status: number | null, output: string }

/** Second opinion from the libxml2 command-line tool (`xmllint --schema`), independent of the WebAssembly build. */
export function xmllint (xsd: string, file: string): XmllintResult {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { encoding: 'utf8' })
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return { available: false }
  if (r.error !== undefined) throw r.error
  return { available: true, status: r.status, output: `${r.stdout}${r.stderr}` }
}
