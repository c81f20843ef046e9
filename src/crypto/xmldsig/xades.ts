import { createHash, type X509Certificate } from 'node:crypto'
import { HubError } from '../../errors.js'
import { DIGESTS, DSIG_NS, SIGNED_PROPERTIES_TYPE, XADES_NS, type DigestName } from './algorithms.js'
import { attribute, childElements, isElement, localName, namespaceUri, type NodePtr } from './native.js'
import { base64Value, valueText, type ParsedReference, type ParsedSignature } from './structure.js'

/** The XAdES-BES signed properties of one signature. */
export interface XadesProperties {
  signedProperties: NodePtr
  reference: ParsedReference
  signingTime?: string
  certDigests: Array<{ digest: DigestName, value: Buffer }>
}

function xades (detail: string): HubError {
  return new HubError('EGIF_ERR_SIGNATURE_XADES', detail)
}

/** True when the signature claims to be XAdES (a SignedProperties reference or QualifyingProperties). */
export function looksLikeXades (sig: ParsedSignature): boolean {
  if (sig.references.some((r) => r.type === SIGNED_PROPERTIES_TYPE)) return true
  return sig.objects.some((o) => childElements(o).some((c) => isElement(c, XADES_NS, 'QualifyingProperties')))
}

/**
 * Finds and checks the XAdES-BES structure: one QualifyingProperties in this Signature's Object,
 * targeting this Signature; its SignedProperties referenced from SignedInfo with the
 * SignedProperties type; a SigningCertificate (or V2) with at least one CertDigest.
 */
export function readXades (sig: ParsedSignature, ids: Map<string, NodePtr>): XadesProperties {
  const qps: NodePtr[] = []
  for (const o of sig.objects) for (const c of childElements(o)) if (isElement(c, XADES_NS, 'QualifyingProperties')) qps.push(c)
  if (qps.length !== 1) throw xades(`a XAdES signature needs exactly one QualifyingProperties in its Object, found ${qps.length}`)
  const qp = qps[0]
  if (sig.id === null || attribute(qp, 'Target') !== `#${sig.id}`) throw xades('QualifyingProperties must target this Signature by its Id')
  const sps = childElements(qp).filter((c) => isElement(c, XADES_NS, 'SignedProperties'))
  if (sps.length !== 1) throw xades('QualifyingProperties needs exactly one SignedProperties')
  const sp = sps[0]
  const spId = attribute(sp, 'Id')
  const refs = sig.references.filter((r) => r.type === SIGNED_PROPERTIES_TYPE)
  if (refs.length !== 1) throw xades('SignedInfo must reference the SignedProperties exactly once, with its Type')
  const ref = refs[0]
  if (spId === null || ref.uri !== `#${spId}` || ids.get(spId) !== sp) throw xades('the SignedProperties reference does not point at this Signature\'s SignedProperties')
  if (ref.enveloped) throw new HubError('EGIF_ERR_SIGNATURE_TRANSFORM', 'the enveloped-signature transform makes no sense on SignedProperties')

  const ssp = childElements(sp).find((c) => isElement(c, XADES_NS, 'SignedSignatureProperties'))
  if (ssp === undefined) throw xades('SignedProperties has no SignedSignatureProperties')
  const out: XadesProperties = { signedProperties: sp, reference: ref, certDigests: [] }
  for (const prop of childElements(ssp)) {
    if (namespaceUri(prop) !== XADES_NS) continue
    const name = localName(prop)
    if (name === 'SigningTime') out.signingTime = valueText(prop).trim()
    if (name !== 'SigningCertificate' && name !== 'SigningCertificateV2') continue
    for (const cert of childElements(prop)) {
      if (!isElement(cert, XADES_NS, 'Cert')) throw xades(`${name} may only contain Cert`)
      const certDigest = childElements(cert).find((c) => isElement(c, XADES_NS, 'CertDigest'))
      if (certDigest === undefined) throw xades('a Cert has no CertDigest')
      const [method, value] = childElements(certDigest)
      if (method === undefined || value === undefined || !isElement(method, DSIG_NS, 'DigestMethod') || !isElement(value, DSIG_NS, 'DigestValue')) {
        throw xades('CertDigest must hold DigestMethod and DigestValue')
      }
      const uri = attribute(method, 'Algorithm') ?? ''
      const digest = DIGESTS.get(uri)
      if (digest === undefined) throw new HubError('EGIF_ERR_SIGNATURE_ALGORITHM', `CertDigest algorithm ${uri} is not allowed`)
      out.certDigests.push({ digest, value: base64Value(value) })
    }
  }
  if (out.certDigests.length === 0) throw xades('SignedSignatureProperties has no SigningCertificate')
  return out
}

/** The signing certificate the signer committed to must be the one that verified the signature. */
export function checkSigningCertificate (props: XadesProperties, cert: X509Certificate): void {
  const der = cert.raw
  const ok = props.certDigests.some((d) => createHash(d.digest).update(der).digest().equals(d.value))
  if (!ok) throw xades('the SigningCertificate digest is not the digest of the certificate that verifies the signature')
}
