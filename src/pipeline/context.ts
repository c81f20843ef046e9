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

/**
 * What the document checks (parse → identify → validate → verify the sender's signature) need: the
 * exact bytes and what the routing header says about them. Plain data, so the checks can run in
 * another thread.
 */
export interface CheckInput {
  body: Buffer
  format: 'xml' | 'json'
  /** The authenticated sender, whose registered certificates the signature must verify with. */
  sender: string
  declaredType?: string
  declaredVersion?: string
  /** Detached JWS from `EGIF-Signature`. */
  detachedSignature?: string
  /** Certificates must be valid at this time. */
  receivedAt: Date
  /**
   * What the seal needs besides the checks' findings, when the checks make the seal too (they run
   * where the CPU is spare, and the seal needs nothing the checks do not know).
   */
  seal?: { messageId: string, receiver: string, digest: string }
}

/** What the checks found: the document's type and version and the outcome of its signature. */
export interface CheckResult {
  type: string
  version: string
  senderSignature: SenderSignature
  /** The signing certificate's SHA-256 fingerprint when the signature was verified. */
  signedBy?: string
  /** The `EGIF-Seal` of the message, when the input asked for one and the checks hold the key. */
  seal?: string
}

/** What the check stages learn about a document as it goes through them. */
export interface CheckState {
  input: CheckInput
  xml?: { doc: XmlDocument, scan: XmlScan }
  json?: unknown
  type?: DocumentType
  version?: string
  senderSignature: SenderSignature
  signedBy?: string
}
