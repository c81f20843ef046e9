import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ParseOption, XmlDocument, XmlError, XmlLibError, XsdValidator } from 'libxml2-wasm'
import * as raw from 'libxml2-wasm/lib/libxml2.mjs'
import { HubError } from '../errors.js'
import { describeXmlErrors } from './document.js'
import { withSchemaFiles } from './schema-files.js'
import { compactEnumerations, type CompactedEnumeration } from './xsd-enumerations.js'

/** One reason a document does not conform to its schema. */
export interface XsdIssue {
  /** Line in the document (1-based; 0 when libxml2 names none). */
  line: number
  message: string
}

/**
 * Schema files are trusted local files, so unlike documents they may carry a DTD (the W3C
 * xmldsig schema traditionally does) and internal entities are substituted (NOENT). Still
 * nothing external: NO_XXE keeps external DTDs and entities unloaded, NONET and the file-only
 * input provider keep the network out.
 */
const SCHEMA_OPTIONS = ParseOption.XML_PARSE_NOENT | ParseOption.XML_PARSE_NO_XXE | ParseOption.XML_PARSE_NONET |
  ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_NO_SYS_CATALOG

// A hostile document can produce one error per element; the first ones say what is wrong.
const MAX_ISSUES = 100
// Values of a code list named in a refusal; the rest are counted.
const ENUMERATION_SHOWN = 10

/**
 * An XSD compiled once at boot and used to validate many documents. Holds wasm memory until
 * {@link dispose}.
 */
export class XsdSchema {
  /** Absolute path of the entry file. */
  readonly file: string
  // The parsed entry file stays alive as long as the compiled schema, which may point into it.
  private source: XmlDocument | undefined
  private validator: XsdValidator | undefined
  /** The code lists compiled as patterns (see xsd-enumerations.ts). */
  private readonly lists: CompactedEnumeration[]

  private constructor (file: string, source: XmlDocument, validator: XsdValidator, lists: CompactedEnumeration[]) {
    this.file = file
    this.source = source
    this.validator = validator
    this.lists = lists
  }

  /**
   * Compiles the XSD at `entryFile`. `xs:include` and `xs:import` are resolved relative to the
   * file that names them and read from the file system, never from the network.
   *
   * @throws HubError EGIF_ERR_SCHEMA_LOAD naming the file and libxml2's messages
   */
  static compile (entryFile: string): XsdSchema {
    const file = resolve(entryFile)
    let bytes: Buffer
    try {
      bytes = readFileSync(file)
    } catch (err) {
      throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${file}: cannot read the schema (${(err as Error).message})`, { file })
    }
    const lists: CompactedEnumeration[] = []
    try {
      return XsdSchema.build(file, bytes, (f, b) => {
        const out = compactEnumerations(b, f, SCHEMA_OPTIONS)
        if (out === null) return null
        lists.push(...out.lists)
        return out.bytes
      }, lists)
    } catch (err) {
      if (lists.length === 0) throw err
      // A schema that fails to compile is reported as written, not as rewritten: compiling the
      // files unchanged gives libxml2's own messages with their own line numbers.
      return XsdSchema.build(file, bytes, undefined, [])
    }
  }

  private static build (file: string, bytes: Buffer, rewrite: ((file: string, bytes: Buffer) => Uint8Array | null) | undefined, lists: CompactedEnumeration[]): XsdSchema {
    return withSchemaFiles(() => {
      const entry = rewrite?.(file, bytes) ?? bytes
      let source: XmlDocument
      try {
        source = XmlDocument.fromBuffer(entry, { url: file, option: SCHEMA_OPTIONS })
      } catch (err) {
        throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${file}: not well-formed XML: ${libxml2Message(err)}`, { file })
      }
      try {
        return new XsdSchema(file, source, XsdValidator.fromDoc(source), lists)
      } catch (err) {
        source.dispose()
        throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${file}: not a usable XML Schema: ${libxml2Message(err)}`, { file })
      }
    }, rewrite)
  }

  /**
   * Every way `doc` breaks the schema, with its line; `[]` when it is valid. An invalid document
   * is an answer, not an exception. At most 100 issues are listed, then one that counts the rest.
   */
  validate (doc: XmlDocument): XsdIssue[] {
    if (this.validator === undefined) throw new HubError('EGIF_ERR_INTERNAL', `the schema ${this.file} was disposed`)
    const run = validateRaw(schemaPointer(this.validator), (doc as unknown as { _ptr: number })._ptr)
    if (run.rc < 0) throw new HubError('EGIF_ERR_INTERNAL', `libxml2 could not validate against ${this.file}`)
    if (run.rc === 0) return []
    // libxml2 reports warnings through the same channel; only errors make a document invalid.
    const useErrors = run.errorCount > 0
    const list = useErrors ? run.errors : run.warnings
    const total = useErrors ? run.errorCount : run.warningCount
    const issues: XsdIssue[] = list.map((d) => ({ line: d.line, message: this.explain(d.message.trim()) }))
    if (total > MAX_ISSUES) issues.push({ line: 0, message: `${total - MAX_ISSUES} more issues not listed` })
    if (issues.length === 0) issues.push({ line: 0, message: 'the document does not conform to the schema' })
    return issues
  }

  /**
   * libxml2's message for a value outside a code list that {@link compactEnumerations} turned into
   * a pattern names that pattern; say what the schema says instead: the value is not in the list.
   */
  private explain (message: string): string {
    if (this.lists.length === 0) return message
    const facet = message.indexOf("[facet 'pattern'] The value '")
    if (facet < 0) return message
    for (const list of this.lists) {
      const tail = `' is not accepted by the pattern '${list.pattern}'.`
      if (!message.endsWith(tail)) continue
      const value = message.slice(facet + "[facet 'pattern'] The value '".length, message.length - tail.length)
      const shown = list.values.slice(0, ENUMERATION_SHOWN).map((v) => `'${v}'`).join(', ')
      const more = list.values.length > ENUMERATION_SHOWN ? `, … (${list.values.length} values of ${list.type})` : ''
      return `${message.slice(0, facet)}[facet 'enumeration'] The value '${value}' is not an element of the set {${shown}${more}}.`
    }
    return message
  }

  /** Frees the compiled schema's wasm memory. Idempotent; validating afterwards throws. */
  dispose (): void {
    this.validator?.dispose()
    this.source?.dispose()
    this.validator = undefined
    this.source = undefined
  }
}

function libxml2Message (err: unknown): string {
  if (err instanceof XmlLibError) return describeXmlErrors(err.details, 5)
  if (err instanceof XmlError) return err.message
  return String(err)
}

interface Diagnostic { line: number, message: string }

interface ValidationRun {
  rc: number
  errors: Diagnostic[]
  warnings: Diagnostic[]
  errorCount: number
  warningCount: number
}

/*
 * Validation calls libxml2 directly rather than through XsdValidator.validate, whose collector
 * copies every diagnostic into JS with the node's XPath: a hostile document can raise one error
 * per element, and a message can be tens of kilobytes (a code list). Here the first MAX_ISSUES of
 * each level are read and the rest only counted. One collector is registered per process (a wasm
 * function-table entry is never released); each run is found by its index.
 */
const runs: Array<ValidationRun | undefined> = []
let collector = 0

function collectorPointer (): number {
  if (collector === 0) {
    collector = (raw as unknown as { addFunction: (fn: (index: number, err: number) => void, sig: string) => number }).addFunction((index: number, err: number): void => {
      const run = runs[index]
      if (run === undefined || err === 0) return
      const level = raw.XmlErrorStruct.level(err)
      if (level >= 2) {
        if (run.errorCount++ < MAX_ISSUES) run.errors.push({ line: raw.XmlErrorStruct.line(err), message: raw.XmlErrorStruct.message(err) })
      } else if (run.warningCount++ < MAX_ISSUES) {
        run.warnings.push({ line: raw.XmlErrorStruct.line(err), message: raw.XmlErrorStruct.message(err) })
      }
    }, 'vii')
  }
  return collector
}

function validateRaw (schema: number, doc: number): ValidationRun {
  const cb = collectorPointer()
  let index = runs.indexOf(undefined)
  if (index <= 0) index = Math.max(1, runs.length) // index 0 would read as "no user data"
  const run: ValidationRun = { rc: -1, errors: [], warnings: [], errorCount: 0, warningCount: 0 }
  runs[index] = run
  const ctxt = raw.xmlSchemaNewValidCtxt(schema)
  if (ctxt === 0) { runs[index] = undefined; return run }
  try {
    raw.xmlSchemaSetValidStructuredErrors(ctxt, cb, index)
    run.rc = raw.xmlSchemaValidateDoc(ctxt, doc)
  } finally {
    raw.xmlSchemaFreeValidCtxt(ctxt)
    runs[index] = undefined
  }
  return run
}

function schemaPointer (validator: XsdValidator): number {
  return (validator as unknown as { _ptr: number })._ptr
}
