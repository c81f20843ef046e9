/**
 * The shape of a document type's `manifest.json` (built-in types in `schemas/<id>/`) and of a
 * document type declared in the configuration. Both go through the same loader.
 */
export type SignaturePolicy = 'required' | 'optional' | 'none'
export type SignatureForm = 'xmldsig' | 'xades-bes' | 'jws-detached'

export interface DocumentTypeVersion {
  /** Version label as the document or the `EGIF-Document-Version` header carries it, e.g. `1.0` or `v2.0`. */
  version: string
  /** Schema entry file, relative to the manifest's folder: an `.xsd` for XML, a JSON Schema for JSON. */
  schema: string
}

export interface DocumentTypeManifest {
  /** Registered type id, as sent in `EGIF-Document-Type`. Letters, digits, `.`, `_` and `-`. */
  id: string
  title: { th?: string, en: string }
  description?: string
  format: 'xml' | 'json'
  /** XML only: the root element's namespace URI (empty string for no namespace) and local name. */
  namespace?: string
  rootElement?: string
  /**
   * Where the document carries its own version.
   * XML: an XPath 1.0 expression evaluated against the document that yields a string,
   * with `namespaces` giving the prefixes it uses. JSON: a JSON Pointer (RFC 6901).
   * When it yields nothing, `defaultVersion` is used (when set) or the header must name one.
   */
  versionLocation?: { xpath?: string, namespaces?: Record<string, string>, pointer?: string }
  defaultVersion?: string
  versions: DocumentTypeVersion[]
  /** Default `none`. */
  signature?: { policy: SignaturePolicy, forms?: SignatureForm[] }
}
