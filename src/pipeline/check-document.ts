import type { DocumentTypeRegistry } from '../registry/document-types.js'
import type { IntakeState } from './context.js'
import { parseBody, type ParseLimits } from './parse.js'
import { identify } from './identify.js'
import { validateSchema } from './validate.js'
import { sha256Digest } from './intake.js'

/**
 * Parses, identifies and validates a document with the same stages as intake, without routing,
 * signature or storage: what `egif validate` runs offline.
 */
export function checkDocument (body: Buffer, format: 'xml' | 'json', registry: DocumentTypeRegistry, limits: ParseLimits, declared: { type?: string, version?: string } = {}): { type: string, version: string, digest: string } {
  const s: IntakeState = {
    req: { principal: { id: 'offline', role: 'participant', via: 'api-key' }, headers: {}, body, receivedAt: new Date() },
    routing: { messageId: 'offline', sender: 'offline', receiver: 'offline', declaredType: declared.type, declaredVersion: declared.version },
    format,
    contentType: format === 'xml' ? 'application/xml' : 'application/json',
    digest: sha256Digest(body),
    senderSignature: 'absent'
  }
  try {
    parseBody(s, limits)
    identify(s, registry)
    validateSchema(s)
    return { type: s.type!.id, version: s.version!, digest: s.digest }
  } finally {
    s.xml?.doc.dispose()
  }
}
