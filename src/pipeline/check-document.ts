import type { DocumentTypeRegistry } from '../registry/document-types.js'
import type { CheckState } from './context.js'
import { parseBody, type ParseLimits } from './parse.js'
import { identify } from './identify.js'
import { validateSchema } from './validate.js'
import { sha256Digest } from './intake.js'

/**
 * Parses, identifies and validates a document with the same stages as intake, without routing,
 * signature or storage: what `egif validate` runs offline.
 */
export function checkDocument (body: Buffer, format: 'xml' | 'json', registry: DocumentTypeRegistry, limits: ParseLimits, declared: { type?: string, version?: string } = {}): { type: string, version: string, digest: string } {
  const s: CheckState = {
    input: { body, format, sender: 'offline', declaredType: declared.type, declaredVersion: declared.version, receivedAt: new Date() },
    senderSignature: 'absent'
  }
  try {
    parseBody(s, limits)
    identify(s, registry)
    validateSchema(s)
    return { type: s.type!.id, version: s.version!, digest: sha256Digest(body) }
  } finally {
    s.xml?.doc.dispose()
  }
}
