import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { XmlXPath, type XmlDocument } from 'libxml2-wasm'
import { HubError } from '../errors.js'
import { XsdSchema, type XsdIssue } from '../xml/xsd.js'
import type { DocumentTypeManifest, SignatureForm, SignaturePolicy } from './manifest.js'
import type { HubConfig } from '../config/types.js'

// ajv-formats is published as CommonJS with a default export
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

export interface ValidationIssue { path: string, message: string }

/** One registered version of a type, with its schema compiled once. */
export interface CompiledVersion {
  version: string
  schemaFile: string
  validateXml?: (doc: XmlDocument) => XsdIssue[]
  validateJson?: ValidateFunction
}

export interface DocumentType {
  id: string
  title: { th?: string, en: string }
  description?: string
  format: 'xml' | 'json'
  namespace?: string
  rootElement?: string
  versionLocation?: DocumentTypeManifest['versionLocation']
  /** `versionLocation.xpath` compiled once (XML types), not per document. */
  versionXPath?: XmlXPath
  defaultVersion?: string
  versions: Map<string, CompiledVersion>
  signature: { policy: SignaturePolicy, forms: SignatureForm[] }
  /** Folder the type was loaded from (built-in, manifest folder, or XSD base folder). */
  source: string
}

/** Public description of a type for `GET /v1/document-types`. */
export interface DocumentTypeInfo {
  id: string
  title: { th?: string, en: string }
  format: 'xml' | 'json'
  namespace?: string
  rootElement?: string
  versions: string[]
  signature: { policy: SignaturePolicy, forms: SignatureForm[] }
}

const DEFAULT_FORMS: Record<'xml' | 'json', SignatureForm[]> = { xml: ['xmldsig', 'xades-bes'], json: ['jws-detached'] }

/**
 * The document-type registry: every type's schemas compiled at boot, looked up by id or, for XML,
 * by the root element's namespace and local name.
 */
export class DocumentTypeRegistry {
  private readonly byId = new Map<string, DocumentType>()
  private readonly byRoot = new Map<string, DocumentType>()
  private readonly ajv: Ajv2020
  private readonly xsds: XsdSchema[] = []
  private readonly xpaths: XmlXPath[] = []

  constructor () {
    this.ajv = new Ajv2020({ allErrors: true, strict: false })
    addFormats(this.ajv)
  }

  /** Builds the registry from the configuration: built-ins, manifest folders, then XSD folders. */
  static fromConfig (cfg: HubConfig, builtinDir: string): DocumentTypeRegistry {
    const reg = new DocumentTypeRegistry()
    if (cfg.documentTypes.builtin && existsSync(builtinDir)) {
      for (const name of readdirSync(builtinDir).sort()) {
        const dir = join(builtinDir, name)
        if (statSync(dir).isDirectory() && existsSync(join(dir, 'manifest.json'))) reg.addManifestFolder(dir)
      }
    }
    for (const dir of cfg.documentTypes.folders) reg.addManifestFolder(dir)
    for (const t of cfg.documentTypes.xsd) {
      reg.add({
        id: t.id,
        title: t.title ?? { en: t.id },
        format: 'xml',
        namespace: t.namespace,
        rootElement: t.rootElement,
        versionLocation: t.versionLocation,
        defaultVersion: t.defaultVersion,
        versions: t.versions,
        signature: t.signature
      }, t.baseDir)
    }
    return reg
  }

  addManifestFolder (dir: string): DocumentType {
    const file = join(dir, 'manifest.json')
    let manifest: DocumentTypeManifest
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8')) as DocumentTypeManifest
    } catch (err) {
      throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${file}: cannot read the manifest (${(err as Error).message})`)
    }
    return this.add(manifest, dir)
  }

  add (m: DocumentTypeManifest, baseDir: string): DocumentType {
    const where = `document type "${m.id}" (${baseDir})`
    if (typeof m.id !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(m.id)) throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: invalid id`)
    if (this.byId.has(m.id)) throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: the id is already registered from ${this.byId.get(m.id)?.source ?? '?'}`)
    if (m.format !== 'xml' && m.format !== 'json') throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: format must be "xml" or "json"`)
    if (!Array.isArray(m.versions) || m.versions.length === 0) throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: at least one version is needed`)
    if (m.format === 'xml' && (m.rootElement === undefined || m.namespace === undefined)) {
      throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: an XML type needs namespace and rootElement`)
    }
    const versions = new Map<string, CompiledVersion>()
    for (const v of m.versions) {
      const schemaFile = resolve(baseDir, v.schema)
      if (!existsSync(schemaFile)) throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: version ${v.version}: schema file ${schemaFile} does not exist`)
      versions.set(v.version, m.format === 'xml' ? this.compileXsd(v.version, schemaFile) : this.compileJson(v.version, schemaFile, where))
    }
    const type: DocumentType = {
      id: m.id,
      title: m.title ?? { en: m.id },
      description: m.description,
      format: m.format,
      namespace: m.namespace,
      rootElement: m.rootElement,
      versionLocation: m.versionLocation,
      defaultVersion: m.defaultVersion,
      versions,
      signature: { policy: m.signature?.policy ?? 'none', forms: m.signature?.forms ?? DEFAULT_FORMS[m.format] },
      source: baseDir
    }
    if (type.format === 'xml' && m.versionLocation?.xpath !== undefined) {
      try {
        type.versionXPath = XmlXPath.compile(m.versionLocation.xpath, m.versionLocation.namespaces ?? {})
      } catch (err) {
        throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: versionLocation.xpath does not compile (${(err as Error).message})`)
      }
      this.xpaths.push(type.versionXPath)
    }
    if (type.format === 'xml') {
      const key = rootKey(type.namespace ?? '', type.rootElement ?? '')
      const other = this.byRoot.get(key)
      if (other !== undefined) throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: root element {${type.namespace ?? ''}}${type.rootElement ?? ''} is already registered by "${other.id}"`)
      this.byRoot.set(key, type)
    }
    this.byId.set(type.id, type)
    return type
  }

  private compileXsd (version: string, schemaFile: string): CompiledVersion {
    const xsd = XsdSchema.compile(schemaFile)
    this.xsds.push(xsd)
    return { version, schemaFile, validateXml: (doc) => xsd.validate(doc) }
  }

  private compileJson (version: string, schemaFile: string, where: string): CompiledVersion {
    let schema: Record<string, unknown>
    try {
      schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: ${schemaFile}: ${(err as Error).message}`)
    }
    try {
      // Each schema gets a unique id so two types may reuse the same relative $id.
      const { $id: _ignored, ...rest } = schema
      return { version, schemaFile, validateJson: this.ajv.compile(rest) }
    } catch (err) {
      throw new HubError('EGIF_ERR_SCHEMA_LOAD', `${where}: ${schemaFile}: ${(err as Error).message}`)
    }
  }

  get (id: string): DocumentType | undefined {
    return this.byId.get(id)
  }

  byRootElement (namespace: string, localName: string): DocumentType | undefined {
    return this.byRoot.get(rootKey(namespace, localName))
  }

  list (): DocumentType[] {
    return [...this.byId.values()]
  }

  info (): DocumentTypeInfo[] {
    return this.list().map((t) => ({
      id: t.id,
      title: t.title,
      format: t.format,
      ...(t.namespace !== undefined ? { namespace: t.namespace, rootElement: t.rootElement } : {}),
      versions: [...t.versions.keys()],
      signature: t.signature
    }))
  }

  close (): void {
    for (const x of this.xsds) x.dispose()
    this.xsds.length = 0
    for (const x of this.xpaths) x.dispose()
    this.xpaths.length = 0
  }
}

function rootKey (namespace: string, localName: string): string {
  return `{${namespace}}${localName}`
}
