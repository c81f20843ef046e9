import type { XmlDocument } from 'libxml2-wasm'
import type { Principal } from '../registry/participants.js'
import type { DocumentType } from '../registry/document-types.js'
import type { XmlScan } from '../xml/scan.js'
import type { SenderSignature } from '../store/types.js'

/** One POST /v1/messages as the HTTP layer hands it to intake. */
export interface IntakeRequest {
  principal: Principal
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  receivedAt: Date
}

export interface Routing {
  messageId: string
  sender: string
  receiver: string
  declaredType?: string
  declaredVersion?: string
  conversationId?: string
  inReplyTo?: string
  /** Detached JWS from `EGIF-Signature`. */
  detachedSignature?: string
}

/** What the stages learn about a message as it goes through them. */
export interface IntakeState {
  req: IntakeRequest
  routing: Routing
  format: 'xml' | 'json'
  contentType: string
  digest: string
  xml?: { doc: XmlDocument, scan: XmlScan }
  json?: unknown
  type?: DocumentType
  version?: string
  senderSignature: SenderSignature
  signedBy?: string
}
