import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto'
import { HubError } from '../../errors.js'
import { certificatesValidAt, checkPresentedCertificate, type ParticipantTrust, type TrustPath } from '../trust.js'
import { DSIG11_NS, DSIG_NS } from './algorithms.js'
import type { KeyCache } from './key-cache.js'
import { attribute, childElements, isElement, type NodePtr } from './native.js'
import { base64Value, type ParsedSignature } from './structure.js'

/** A key that may have made the signature, and why the hub trusts it. */
export interface CandidateKey {
  cert: X509Certificate
  key: KeyObject
  trustPath: TrustPath
}

/**
 * The keys to try, all trusted for the sender at `at`. Certificates in X509Data are only
 * candidates once `checkPresentedCertificate` accepts them (others in the data, such as a chain,
 * are ignored while one passes). Without X509Data, the registered certificates valid at `at`.
 *
 * @throws HubError `_UNTRUSTED_KEY` / `_CERT_NOT_VALID` as `checkPresentedCertificate` decides, or
 *   when no registered certificate is valid at `at`; `_MALFORMED` for an unparseable certificate.
 */
export function candidateKeys (sig: ParsedSignature, trust: ParticipantTrust, at: Date, cache: KeyCache): CandidateKey[] {
  const out: CandidateKey[] = []
  if (sig.certificates.length > 0) {
    let firstError: unknown = null
    for (const b64 of sig.certificates) {
      let cert: X509Certificate
      try {
        cert = cache.certificate(b64)
      } catch {
        throw new HubError('EGIF_ERR_SIGNATURE_MALFORMED', 'an X509Certificate is not a DER certificate')
      }
      try {
        const trustPath = checkPresentedCertificate(cert, trust, at)
        out.push({ cert, key: cache.publicKey(cert), trustPath })
      } catch (err) {
        firstError ??= err
      }
    }
    if (out.length === 0) throw firstError
  } else {
    for (const cert of certificatesValidAt(trust, at)) out.push({ cert, key: cache.publicKey(cert), trustPath: 'registered' })
    if (out.length === 0) {
      if (trust.certificates.length > 0) throw new HubError('EGIF_ERR_SIGNATURE_CERT_NOT_VALID', `no certificate registered for the sender is valid at ${at.toISOString()}`)
      throw new HubError('EGIF_ERR_SIGNATURE_UNTRUSTED_KEY', 'no certificate is registered for the sender')
    }
  }
  if (sig.keyValue !== 0) return [keyValueCandidate(sig.keyValue, out)]
  return out
}

/**
 * A KeyValue is never a source of trust: it is accepted only when it is exactly the key of a
 * trusted candidate (some signers always write one), and then only that candidate is tried.
 */
function keyValueCandidate (keyValue: NodePtr, candidates: CandidateKey[]): CandidateKey {
  let spki: Buffer
  try {
    spki = keyValueKey(keyValue).export({ type: 'spki', format: 'der' })
  } catch (err) {
    if (err instanceof HubError) throw err
    throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'the KeyValue is not a usable public key')
  }
  const match = candidates.find((c) => spki.equals(c.key.export({ type: 'spki', format: 'der' })))
  if (match === undefined) throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'the KeyValue is not the key of a certificate registered for the sender')
  return match
}

const CURVES: Record<string, string> = {
  'urn:oid:1.2.840.10045.3.1.7': 'P-256',
  'urn:oid:1.3.132.0.34': 'P-384',
  'urn:oid:1.3.132.0.35': 'P-521'
}

function keyValueKey (keyValue: NodePtr): KeyObject {
  const [inner] = childElements(keyValue)
  if (inner !== undefined && isElement(inner, DSIG_NS, 'RSAKeyValue')) {
    const [modulus, exponent] = childElements(inner)
    if (modulus === undefined || exponent === undefined || !isElement(modulus, DSIG_NS, 'Modulus') || !isElement(exponent, DSIG_NS, 'Exponent')) {
      throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'RSAKeyValue lacks Modulus or Exponent')
    }
    return createPublicKey({ format: 'jwk', key: { kty: 'RSA', n: base64Value(modulus).toString('base64url'), e: base64Value(exponent).toString('base64url') } })
  }
  if (inner !== undefined && isElement(inner, DSIG11_NS, 'ECKeyValue')) {
    const [curveEl, pointEl] = childElements(inner)
    const crv = curveEl !== undefined && isElement(curveEl, DSIG11_NS, 'NamedCurve') ? CURVES[attribute(curveEl, 'URI') ?? ''] : undefined
    if (crv === undefined || pointEl === undefined || !isElement(pointEl, DSIG11_NS, 'PublicKey')) {
      throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'ECKeyValue names no supported curve or has no PublicKey')
    }
    const point = base64Value(pointEl)
    const len = (point.length - 1) / 2
    if (point[0] !== 4 || !Number.isInteger(len)) throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'ECKeyValue PublicKey is not an uncompressed point')
    return createPublicKey({ format: 'jwk', key: { kty: 'EC', crv, x: point.subarray(1, 1 + len).toString('base64url'), y: point.subarray(1 + len).toString('base64url') } })
  }
  throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'only an RSA or EC KeyValue equal to the registered key is accepted')
}
