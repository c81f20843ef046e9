import { HubError } from '../errors.js'
import type { DocumentType, DocumentTypeRegistry } from '../registry/document-types.js'
import type { CheckState } from './context.js'

function jsonPointer (value: unknown, pointer: string): unknown {
  if (pointer === '') return value
  let cur = value
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** The version the document carries itself, or undefined. */
function carriedVersion (s: CheckState, type: DocumentType): string | undefined {
  const loc = type.versionLocation
  if (loc === undefined) return undefined
  if (s.input.format === 'xml' && loc.xpath !== undefined && s.xml !== undefined) {
    const v = type.versionXPath !== undefined ? s.xml.doc.eval(type.versionXPath) : s.xml.doc.eval(loc.xpath, loc.namespaces ?? {})
    const text = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : Array.isArray(v) && v.length > 0 ? v[0].content : ''
    return text.trim() === '' ? undefined : text.trim()
  }
  if (s.input.format === 'json' && loc.pointer !== undefined) {
    const v = jsonPointer(s.json, loc.pointer)
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined
  }
  return undefined
}

/**
 * Stage: find the document type and version. XML types are known by their root element's namespace
 * and name; a declared `EGIF-Document-Type` must agree with it. JSON needs the header. The version
 * comes from the document where it carries one, else the header, else the type's default.
 */
export function identify (s: CheckState, registry: DocumentTypeRegistry): void {
  const declared = s.input.declaredType
  let type: DocumentType | undefined
  if (s.input.format === 'xml') {
    const root = s.xml!.scan.root
    const byRoot = registry.byRootElement(root.namespace, root.localName)
    if (declared !== undefined) {
      type = registry.get(declared)
      if (type === undefined) throw new HubError('EGIF_ERR_TYPE_UNKNOWN', `document type "${declared}" is not registered`)
      if (type.format !== 'xml' || byRoot !== type) {
        throw new HubError('EGIF_ERR_TYPE_MISMATCH', `EGIF-Document-Type is ${declared} but the root element {${root.namespace}}${root.localName} is ${byRoot !== undefined ? `that of ${byRoot.id}` : 'not a registered type'}`)
      }
    } else {
      if (byRoot === undefined) throw new HubError('EGIF_ERR_TYPE_UNKNOWN', `no document type is registered for the root element {${root.namespace}}${root.localName}`)
      type = byRoot
    }
  } else {
    if (declared === undefined) throw new HubError('EGIF_ERR_HEADER_MISSING', 'EGIF-Document-Type is required for JSON documents')
    type = registry.get(declared)
    if (type === undefined) throw new HubError('EGIF_ERR_TYPE_UNKNOWN', `document type "${declared}" is not registered`)
    if (type.format !== 'json') throw new HubError('EGIF_ERR_TYPE_MISMATCH', `document type ${declared} is XML but the body is JSON`)
  }
  const carried = carriedVersion(s, type)
  const header = s.input.declaredVersion
  if (carried !== undefined && header !== undefined && carried !== header) {
    throw new HubError('EGIF_ERR_VERSION_MISMATCH', `EGIF-Document-Version is ${header} but the document says ${carried}`)
  }
  const version = carried ?? header ?? type.defaultVersion ?? (type.versions.size === 1 ? [...type.versions.keys()][0] : undefined)
  if (version === undefined) throw new HubError('EGIF_ERR_HEADER_MISSING', `the document carries no version: send EGIF-Document-Version (registered: ${[...type.versions.keys()].join(', ')})`)
  if (!type.versions.has(version)) {
    throw new HubError('EGIF_ERR_VERSION_UNSUPPORTED', `version ${version} of ${type.id} is not registered (registered: ${[...type.versions.keys()].join(', ')})`)
  }
  s.type = type
  s.version = version
}
