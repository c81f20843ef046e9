import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ParseOption, XmlDocument, XmlError, XmlLibError, XmlValidateError, XsdValidator } from 'libxml2-wasm'
import { HubError } from '../errors.js'
import { describeXmlErrors } from './document.js'
import { withSchemaFiles } from './schema-files.js'

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

  private constructor (file: string, source: XmlDocument, validator: XsdValidator) {
    this.file = file
    this.source = source
    this.validator = validator
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
    return withSchemaFiles(() => {
      let source: XmlDocument
      try {
        source = XmlDocument.fromBuffer(bytes, { url: file, option: SCHEMA_OPTIONS })
      } catch (err) {
        throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${file}: not well-formed XML: ${libxml2Message(err)}`, { file })
      }
      try {
        return new XsdSchema(file, source, XsdValidator.fromDoc(source))
      } catch (err) {
        source.dispose()
        throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${file}: not a usable XML Schema: ${libxml2Message(err)}`, { file })
      }
    })
  }

  /**
   * Every way `doc` breaks the schema, with its line; `[]` when it is valid. An invalid document
   * is an answer, not an exception. At most 100 issues are listed, then one that counts the rest.
   */
  validate (doc: XmlDocument): XsdIssue[] {
    if (this.validator === undefined) throw new HubError('EGIF_ERR_INTERNAL', `the schema ${this.file} was disposed`)
    try {
      this.validator.validate(doc)
      return []
    } catch (err) {
      if (!(err instanceof XmlValidateError)) {
        throw new HubError('EGIF_ERR_INTERNAL', `libxml2 could not validate against ${this.file}: ${(err as Error).message}`)
      }
      // libxml2 reports warnings through the same channel; only errors make a document invalid.
      const errors = err.details.filter((d) => d.level >= 2)
      const list = errors.length > 0 ? errors : err.details
      const issues: XsdIssue[] = list.slice(0, MAX_ISSUES).map((d) => ({ line: d.line, message: d.message.trim() }))
      if (list.length > MAX_ISSUES) issues.push({ line: 0, message: `${list.length - MAX_ISSUES} more issues not listed` })
      if (issues.length === 0) issues.push({ line: 0, message: 'the document does not conform to the schema' })
      return issues
    }
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
