import { createHash, verify as verifySignature } from 'node:crypto'
import type { XmlDocument } from 'libxml2-wasm'
import { HubError } from '../../errors.js'
import type { ParticipantTrust } from '../trust.js'
import { SIGNED_PROPERTIES_TYPE } from './algorithms.js'
import { OctetCollector, canonicalizeDocument, canonicalizeSubtree } from './c14n.js'
import { keyCacheFor, type KeyCache } from './key-cache.js'
import { documentPointer, parentNode, rootElement, type NodePtr } from './native.js'
import { scanDocument } from './scan.js'
import { candidateKeys, type CandidateKey } from './signing-key.js'
import { parseSignature, type ParsedReference, type ParsedSignature } from './structure.js'
import { checkSigningCertificate, looksLikeXades, readXades, type XadesProperties } from './xades.js'

export type XmlSignatureForm = 'xmldsig' | 'xades-bes'

/** A verified XML signature: how it was made and with which trusted certificate. */
export interface XmlSignatureCheck {
  form: XmlSignatureForm
  /** The SignatureMethod URI. */
  algorithm: string
  certificate: { fingerprint256: string, subject: string, serialNumber: string, trustPath: 'registered' | 'ca' }
  /** XAdES SigningTime, as written, when present. */
  signingTime?: string
}

export interface VerifyXmlSignatureOptions {
  /** What may sign for the sender: its registered certificates and CA bindings. */
  trust: ParticipantTrust
  /** The time certificates must be valid at (the time of receipt). */
  at: Date
  /** The forms the document type accepts; another form is refused with `_FORM_NOT_ALLOWED`. */
  forms: XmlSignatureForm[]
  /**
   * Parsed keys and certificates to reuse between calls. Default: one cache per `trust` object,
   * kept as long as that object lives (participants' trust is long-lived in the registry).
   */
  keys?: KeyCache
}

/** A bare-name reference `#id`: anything else after '#' (xpointer, escapes) is not one. */
const BARE_NAME = /^#([A-Za-z_][\w.-]*)$/

/**
 * Verifies the one enveloped XML signature a document may carry (DESIGN §5, docs/signatures.md).
 *
 * @returns null when the document carries no ds:Signature.
 * @throws HubError `EGIF_ERR_SIGNATURE_*` with the specific reason the signature is refused.
 */
export function verifyXmlSignature (doc: XmlDocument, opts: VerifyXmlSignatureOptions): XmlSignatureCheck | null {
  const docPtr = documentPointer(doc)
  const root = rootElement(docPtr)
  const scan = scanDocument(docPtr)
  if (scan.signatures.length === 0) {
    if (scan.signedInfos > 0) throw new HubError('EGIF_ERR_SIGNATURE_MALFORMED', 'SignedInfo outside a Signature')
    return null
  }
  if (scan.signatures.length > 1) throw new HubError('EGIF_ERR_SIGNATURE_MULTIPLE', `${scan.signatures.length} Signature elements; exactly one is accepted`)
  if (scan.signedInfos > 1) throw new HubError('EGIF_ERR_SIGNATURE_MULTIPLE', `${scan.signedInfos} SignedInfo elements; exactly one is accepted`)
  const sigEl = scan.signatures[0]
  if (parentNode(sigEl) !== root) throw new HubError('EGIF_ERR_SIGNATURE_WRAPPING', 'the Signature must be a child of the document root')

  const sig = parseSignature(sigEl)
  const form: XmlSignatureForm = looksLikeXades(sig) ? 'xades-bes' : 'xmldsig'
  if (!opts.forms.includes(form)) throw new HubError('EGIF_ERR_SIGNATURE_FORM_NOT_ALLOWED', `this document type does not accept ${form} signatures`)
  const docRef = documentReference(sig, root, scan.ids, form)
  const props = form === 'xades-bes' ? readXades(sig, scan.ids) : null

  const candidates = candidateKeys(sig, opts.trust, opts.at, keyCacheFor(opts.trust, opts.keys))
  const used = checkSignatureValue(doc, sig, candidates)
  checkDigest(docRef, digestOfDocument(doc, docRef, sigEl))
  if (props !== null) {
    checkDigest(props.reference, digestOfSubtree(doc, props.reference, props.signedProperties))
    checkSigningCertificate(props, used.cert)
  }
  return result(form, sig, used, props)
}

function documentReference (sig: ParsedSignature, root: NodePtr, ids: Map<string, NodePtr>, form: XmlSignatureForm): ParsedReference {
  const docRefs = sig.references.filter((r) => r.type !== SIGNED_PROPERTIES_TYPE)
  const expected = form === 'xades-bes' ? 2 : 1
  if (docRefs.length !== 1 || sig.references.length !== expected) {
    throw new HubError('EGIF_ERR_SIGNATURE_REFERENCE', `${sig.references.length} references; a ${form} signature has exactly ${expected}, one of them to the whole document`)
  }
  const ref = docRefs[0]
  if (ref.uri === '') return ref
  const m = BARE_NAME.exec(ref.uri)
  if (m === null) throw new HubError('EGIF_ERR_SIGNATURE_REFERENCE', `reference URI "${ref.uri}" is neither "" nor #id of the document root`)
  const target = ids.get(m[1])
  if (target === undefined) throw new HubError('EGIF_ERR_SIGNATURE_REFERENCE', `no element has the Id "${m[1]}"`)
  // a signed element that is not the root leaves unsigned content around it for a reader to take
  if (target !== root) throw new HubError('EGIF_ERR_SIGNATURE_WRAPPING', `the reference #${m[1]} points at an element that is not the document root`)
  return ref
}

function digestOfDocument (doc: XmlDocument, ref: ParsedReference, sigEl: NodePtr): Buffer {
  // URI="" is the whole document with its prolog (PIs such as xml-model); #id is the root alone
  const hash = createHash(ref.digest)
  canonicalizeDocument(doc, ref.uri === '' ? 'document' : 'root', ref.enveloped ? sigEl : 0, ref.c14n, hash, ref.c14n.prefixes)
  return hash.digest()
}

function digestOfSubtree (doc: XmlDocument, ref: ParsedReference, el: NodePtr): Buffer {
  const hash = createHash(ref.digest)
  canonicalizeSubtree(doc, el, ref.c14n, hash, ref.c14n.prefixes)
  return hash.digest()
}

function checkDigest (ref: ParsedReference, actual: Buffer): void {
  if (!actual.equals(ref.digestValue)) {
    throw new HubError('EGIF_ERR_SIGNATURE_DIGEST_MISMATCH', `the digest of reference "${ref.uri}" does not match: the signed content was changed`)
  }
}

function checkSignatureValue (doc: XmlDocument, sig: ParsedSignature, candidates: CandidateKey[]): CandidateKey {
  const fitting = candidates.filter((c) => c.key.asymmetricKeyType === sig.method.keyType)
  if (fitting.length === 0) throw new HubError('EGIF_ERR_SIGNATURE_ALGORITHM', `${sig.methodUri} does not fit the sender's ${candidates[0].key.asymmetricKeyType ?? 'unknown'} key`)
  const collector = new OctetCollector()
  canonicalizeSubtree(doc, sig.signedInfo, sig.c14n, collector, sig.c14n.prefixes)
  const signedInfo = collector.bytes()
  const { hash, padding, saltLength, dsaEncoding } = sig.method
  for (const c of fitting) {
    if (verifySignature(hash, signedInfo, { key: c.key, padding, saltLength, dsaEncoding }, sig.signatureValue)) return c
  }
  throw new HubError('EGIF_ERR_SIGNATURE_INVALID', 'the SignatureValue does not verify with the sender\'s key')
}

function result (form: XmlSignatureForm, sig: ParsedSignature, used: CandidateKey, props: XadesProperties | null): XmlSignatureCheck {
  const out: XmlSignatureCheck = {
    form,
    algorithm: sig.methodUri,
    certificate: {
      fingerprint256: used.cert.fingerprint256,
      subject: used.cert.subject,
      serialNumber: used.cert.serialNumber,
      trustPath: used.trustPath
    }
  }
  if (props?.signingTime !== undefined) out.signingTime = props.signingTime
  return out
}
