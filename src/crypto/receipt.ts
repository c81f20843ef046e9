import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import { HubError } from '../errors.js'
import type { Jwks } from './jwk.js'
import type { HubKeyRing } from './jwks.js'
import { signCompact, signCompactJson, verifyCompact, type VerificationKey } from './jws.js'
import type { HubKey } from './hub-key.js'

/**
 * JWS `typ` of a receipt and of a seal. Explicit types (RFC 8725 §3.11) stop one being passed off
 * as the other: both are hub-signed JSON, and a seal must never verify where a receipt is expected.
 */
export const RECEIPT_TYP = 'egif-receipt'
export const SEAL_TYP = 'egif-seal'

/** Outcome of the sender-signature check, as the seal tells the recipient. */
export type SenderSignatureOutcome = 'verified' | 'absent' | 'not-required'
const OUTCOMES: readonly string[] = ['verified', 'absent', 'not-required']

/** What the `EGIF-Seal` JWS on a delivery asserts. */
export interface SealFields {
  messageId: string
  sender: string
  receiver: string
  documentType: string
  documentVersion: string
  /** `sha256:` + 64 lowercase hex digits of the exact body bytes. */
  digest: string
  /** ISO 8601 time at which the hub durably accepted the message. */
  acceptedAt: string
  senderSignature: SenderSignatureOutcome
}

const SEAL_MEMBERS = ['messageId', 'sender', 'receiver', 'documentType', 'documentVersion', 'digest', 'acceptedAt', 'senderSignature'] as const
const DIGEST = /^sha256:[0-9a-f]{64}$/

/** `sha256:` + hex of the bytes: the digest receipts and seals carry. */
export function bodyDigest (body: Uint8Array): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

function checkSealFields (fields: Record<string, unknown>): SealFields {
  for (const name of SEAL_MEMBERS) {
    if (typeof fields[name] !== 'string' || fields[name] === '') {
      throw new HubError('EGIF_ERR_JWS_TYPE', `the seal has no ${name}`)
    }
  }
  if (!DIGEST.test(fields.digest as string)) throw new HubError('EGIF_ERR_JWS_TYPE', 'the seal digest is not sha256:<64 hex digits>')
  if (!OUTCOMES.includes(fields.senderSignature as string)) {
    throw new HubError('EGIF_ERR_JWS_TYPE', `the seal senderSignature must be one of ${OUTCOMES.join(', ')}`)
  }
  // Exactly the seal members, in a fixed order: nothing unintended gets signed or returned.
  const out: Record<string, string> = {}
  for (const name of SEAL_MEMBERS) out[name] = fields[name] as string
  return out as unknown as SealFields
}

function withoutSignature (receipt: object): Record<string, unknown> {
  if (receipt === null || typeof receipt !== 'object' || Array.isArray(receipt)) throw new TypeError('a receipt must be a JSON object')
  if (!Object.hasOwn(receipt, 'signature')) return receipt as Record<string, unknown>
  const { signature: _ignored, ...rest } = receipt as Record<string, unknown>
  return rest
}

/**
 * Signs a receipt: a compact JWS (`typ: egif-receipt`) whose payload is the receipt without its
 * `signature` member. The caller puts the result in `signature`.
 */
export function signReceipt (ring: HubKeyRing, receipt: object): string {
  return signReceiptJson(ring.current, receiptPayloadJson(receipt))
}

/**
 * A receipt's payload as the JSON text its signature covers: the receipt without its `signature`
 * member. With {@link signReceiptJson}, the signature can be made where the key is (another thread)
 * from text made here.
 */
export function receiptPayloadJson (receipt: object): string {
  return JSON.stringify(withoutSignature(receipt))
}

/** `signReceipt` with the key itself, of a payload from {@link receiptPayloadJson}. */
export function signReceiptJson (key: SealKey, payloadJson: string): string {
  return signCompactJson(key, payloadJson, { typ: RECEIPT_TYP })
}

/** The seal of one delivery: a compact JWS (`typ: egif-seal`) over exactly the seal fields. */
export function sealFor (ring: HubKeyRing, fields: SealFields): string {
  return sealWithKey(ring.current, fields)
}

/** The key a seal is made with: the hub's current key (a document-check thread holds a copy). */
export type SealKey = Pick<HubKey, 'kid' | 'alg' | 'privateKey'>

/** `sealFor` with the key itself, for a thread that holds the key but not the ring. */
export function sealWithKey (key: SealKey, fields: SealFields): string {
  return signCompact(key, sealPayload(fields), { typ: SEAL_TYP })
}

function sealPayload (fields: SealFields): SealFields {
  try {
    return checkSealFields(fields as unknown as Record<string, unknown>)
  } catch (err) {
    // A bad seal is the hub's own bug, not a caller's fault.
    throw new TypeError(`cannot seal: ${(err as Error).message}`)
  }
}

function verifyTyped (jws: string, keys: Jwks | readonly VerificationKey[], typ: string): Record<string, unknown> {
  const { header, payload } = verifyCompact(jws, keys)
  if (header.typ !== typ) throw new HubError('EGIF_ERR_JWS_TYPE', `expected a JWS of type ${typ}, got ${String(header.typ ?? 'none')}`)
  return payload
}

/**
 * Verifies a receipt JWS with the hub's published keys and returns the signed receipt.
 *
 * @throws HubError `EGIF_ERR_JWS_*`; `EGIF_ERR_JWS_TYPE` when the JWS is not a receipt.
 */
export function verifyReceipt (jws: string, jwks: Jwks | readonly VerificationKey[]): Record<string, unknown> {
  return verifyTyped(jws, jwks, RECEIPT_TYP)
}

/**
 * Verifies a whole receipt as the API returns it: its `signature` verifies and signs exactly the
 * other members (a receipt whose fields were edited after signing fails).
 */
export function verifySignedReceipt (receipt: object, jwks: Jwks | readonly VerificationKey[]): Record<string, unknown> {
  const signature = (receipt as { signature?: unknown }).signature
  if (typeof signature !== 'string') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the receipt has no signature')
  const signed = verifyReceipt(signature, jwks)
  if (!isDeepStrictEqual(signed, withoutSignature(receipt))) {
    throw new HubError('EGIF_ERR_JWS_INVALID', 'the receipt differs from what the hub signed')
  }
  return signed
}

/** Options of `verifySeal`. */
export interface VerifySealOptions {
  /** The delivered bytes: when given, their digest must equal the sealed one. */
  body?: Uint8Array
}

/**
 * Verifies an `EGIF-Seal` with the hub's published keys and returns what it asserts.
 *
 * @throws HubError `EGIF_ERR_JWS_*`; `EGIF_ERR_JWS_TYPE` when it is not a seal;
 *   `EGIF_ERR_JWS_INVALID` when `body` does not have the sealed digest.
 */
export function verifySeal (jws: string, jwks: Jwks | readonly VerificationKey[], opts: VerifySealOptions = {}): SealFields {
  const fields = checkSealFields(verifyTyped(jws, jwks, SEAL_TYP))
  if (opts.body !== undefined && bodyDigest(opts.body) !== fields.digest) {
    throw new HubError('EGIF_ERR_JWS_INVALID', 'the delivered bytes do not have the digest the hub sealed')
  }
  return fields
}
