import { HubError } from '../errors.js'
import type { DocumentTypeRegistry } from '../registry/document-types.js'
import type { ParticipantRegistry } from '../registry/participants.js'
import type { CheckInput, CheckResult, CheckState } from './context.js'
import { parseBody, type ParseLimits } from './parse.js'
import { identify } from './identify.js'
import { validateSchema } from './validate.js'
import { verifySenderSignature, type SignatureVerifiers } from './verify-signature.js'
import { sealWithKey, type SealKey } from '../crypto/receipt.js'

/** What the document checks read: registered types, participants' trust, limits, verifiers. */
export interface CheckDeps {
  types: DocumentTypeRegistry
  participants: ParticipantRegistry
  limits: ParseLimits
  verifiers: SignatureVerifiers
  /** The hub's current key, to seal a message that passed (when the input asks for a seal). */
  sealKey?: SealKey
}

/**
 * The document stages of intake, in their order (DESIGN §2):
 *
 *   parse (strict, bounded) → identify type + version → validate → verify the sender's signature
 *     (→ seal, when asked: the seal names the type, version and signature outcome found here)
 *
 * A pure function of its input and the registries, which is what lets intake run it in worker
 * threads (`check-pool.ts`): the stages are most of a message's CPU.
 *
 * @throws HubError with the code of the first stage that refuses the document.
 */
export function checkMessage (input: CheckInput, deps: CheckDeps): CheckResult {
  const sender = deps.participants.get(input.sender)
  if (sender === undefined) throw new HubError('EGIF_ERR_INTERNAL', `sender ${input.sender} is not a registered participant here`)
  const s: CheckState = { input, senderSignature: 'absent' }
  try {
    parseBody(s, deps.limits)
    identify(s, deps.types)
    validateSchema(s)
    verifySenderSignature(s, sender.trust, deps.verifiers)
  } finally {
    s.xml?.doc.dispose()
  }
  const result: CheckResult = {
    type: s.type!.id,
    version: s.version!,
    senderSignature: s.senderSignature,
    ...(s.signedBy !== undefined ? { signedBy: s.signedBy } : {})
  }
  if (input.seal !== undefined && deps.sealKey !== undefined) {
    result.seal = sealWithKey(deps.sealKey, {
      messageId: input.seal.messageId,
      sender: input.sender,
      receiver: input.seal.receiver,
      documentType: result.type,
      documentVersion: result.version,
      digest: input.seal.digest,
      acceptedAt: input.receivedAt.toISOString(),
      senderSignature: result.senderSignature
    })
  }
  return result
}
