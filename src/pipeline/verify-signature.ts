import type { XmlDocument } from 'libxml2-wasm'
import { HubError } from '../errors.js'
import type { ParticipantTrust } from '../crypto/trust.js'
import { verifyDetached } from '../crypto/jws.js'
import { verifyXmlSignature } from '../crypto/xmldsig/index.js'
import type { SignatureForm } from '../registry/manifest.js'
import type { CheckState } from './context.js'

/** A verified signature: how it was made and with which certificate. */
export interface SignatureCheck {
  form: SignatureForm
  certificateFingerprint: string
}

/** The verifiers intake uses; injected so the pipeline does not depend on how they are built. */
export interface SignatureVerifiers {
  /** null when the XML document carries no signature; throws HubError when it carries a bad one. */
  xml: (doc: XmlDocument, trust: ParticipantTrust, at: Date, forms: SignatureForm[]) => SignatureCheck | null
  /** Verifies a detached JWS over the exact body bytes; throws HubError when it does not verify. */
  jws: (jws: string, body: Buffer, trust: ParticipantTrust, at: Date) => SignatureCheck
}

/** The hub's verifiers: XML-DSig / XAdES-BES in the document, detached JWS in `EGIF-Signature`. */
export const registeredVerifiers: SignatureVerifiers = {
  xml: (doc, trust, at, forms) => {
    const check = verifyXmlSignature(doc, { trust, at, forms: forms.filter((f): f is 'xmldsig' | 'xades-bes' => f !== 'jws-detached') })
    return check === null ? null : { form: check.form, certificateFingerprint: check.certificate.fingerprint256 }
  },
  jws: (jws, body, trust, at) => ({ form: 'jws-detached', certificateFingerprint: verifyDetached(jws, body, { trust, at }).certificate.fingerprint256 })
}

/**
 * Stage: verify the sender's signature as the type's policy asks (required, optional, none), always
 * against the sender's registered certificates. A signature that is present is checked even when
 * the policy is optional: a bad one is never waved through.
 */
export function verifySenderSignature (s: CheckState, trust: ParticipantTrust, verifiers: SignatureVerifiers): void {
  const policy = s.type!.signature
  if (policy.policy === 'none') {
    s.senderSignature = 'not-required'
    return
  }
  const at = s.input.receivedAt
  let check: SignatureCheck | null = null
  if (s.input.detachedSignature !== undefined) {
    if (!policy.forms.includes('jws-detached')) throw new HubError('EGIF_ERR_SIGNATURE_FORM_NOT_ALLOWED', `${s.type!.id} does not accept a detached JWS`)
    check = verifiers.jws(s.input.detachedSignature, s.input.body, trust, at)
  }
  if (s.input.format === 'xml') {
    const xmlForms = policy.forms.filter((f) => f !== 'jws-detached')
    const xmlCheck = verifiers.xml(s.xml!.doc, trust, at, xmlForms)
    if (xmlCheck !== null && xmlForms.length === 0) throw new HubError('EGIF_ERR_SIGNATURE_FORM_NOT_ALLOWED', `${s.type!.id} does not accept an XML signature`)
    check = xmlCheck ?? check
  }
  if (check === null) {
    if (policy.policy === 'required') throw new HubError('EGIF_ERR_SIGNATURE_REQUIRED', `${s.type!.id} must be signed (${policy.forms.join(' or ')})`)
    s.senderSignature = 'absent'
    return
  }
  s.senderSignature = 'verified'
  s.signedBy = check.certificateFingerprint
}
