import { createHash, X509Certificate, type KeyObject } from 'node:crypto'
import { HubError, isHubError } from '../errors.js'
import type { HubKey } from './hub-key.js'
import { importPublicJwk, type Jwks } from './jwk.js'
import { keyFitsAlgorithm, signatureShapeProblem, signBytes, verifyBytes, type JwsAlgorithm } from './jws-algorithms.js'
import { decodeJsonObject, decodeSignature, parseProtectedHeader, splitCompact, type JwsHeader } from './jws-header.js'
import { certificatesValidAt, checkPresentedCertificate, type ParticipantTrust, type TrustPath } from './trust.js'
import { keyCacheFor, type KeyCache } from './xmldsig/key-cache.js'

/** A public key a compact JWS may be verified with; a `HubKey` is one. */
export interface VerificationKey {
  /** When set, only a JWS whose header names this kid is tried against the key. */
  kid?: string
  /** When set, the only algorithm this key verifies. */
  alg?: string
  publicKey: KeyObject
}

/** Receipts and seals are small; anything far larger is not one. */
const MAX_COMPACT = 64 * 1024
/** An `EGIF-Signature` header: room for an x5c chain of a few RSA-4096 certificates. */
const MAX_DETACHED = 32 * 1024

const NOTHING_UNDERSTOOD: ReadonlySet<string> = new Set()
const DETACHED_UNDERSTOOD: ReadonlySet<string> = new Set(['b64'])

function encodeHeader (header: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(header)).toString('base64url')
}

/** Encoded headers that are only a `typ` (receipts, seals), per key and type: the same for every message. */
const typedHeaders = new Map<string, string>()

function protectedHeader (key: Pick<HubKey, 'kid' | 'alg'>, header: Record<string, unknown>): string {
  let only: string | undefined
  for (const name in header) {
    if (name !== 'typ' || typeof header.typ !== 'string') return encodeHeader({ ...header, alg: key.alg, kid: key.kid })
    only = header.typ
  }
  if (only === undefined) return encodeHeader({ alg: key.alg, kid: key.kid })
  const id = `${key.alg}\u0000${key.kid}\u0000${only}`
  let encoded = typedHeaders.get(id)
  if (encoded === undefined) {
    // Keys rotate and types are few; a map grown past this is a caller making up types.
    if (typedHeaders.size >= 256) typedHeaders.clear()
    typedHeaders.set(id, encoded = encodeHeader({ typ: only, alg: key.alg, kid: key.kid }))
  }
  return encoded
}

/**
 * Signs a JSON payload as a compact JWS. `alg` and `kid` come from the key and override the same
 * members of `header`.
 */
export function signCompact (key: Pick<HubKey, 'kid' | 'alg' | 'privateKey'>, payload: object, header: Record<string, unknown> = {}): string {
  return signCompactJson(key, JSON.stringify(payload), header)
}

/** `signCompact` of a payload already written as JSON text (the exact text is what gets signed). */
export function signCompactJson (key: Pick<HubKey, 'kid' | 'alg' | 'privateKey'>, payloadJson: string, header: Record<string, unknown> = {}): string {
  const input = `${protectedHeader(key, header)}.${Buffer.from(payloadJson).toString('base64url')}`
  return `${input}.${signBytes(key.alg, key.privateKey, Buffer.from(input, 'ascii')).toString('base64url')}`
}

/** The keys of a JWKS as verification keys; imports once, so a caller verifying many JWS keeps the result. */
export function keysFromJwks (jwks: Jwks): VerificationKey[] {
  const out: VerificationKey[] = []
  for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue
    try {
      out.push({ kid: jwk.kid, alg: jwk.alg, publicKey: importPublicJwk(jwk) })
    } catch {
      // A key this verifier cannot use (oct, unknown kty, broken members) can never be the signer.
    }
  }
  return out
}

/**
 * Verifies a compact JWS with a JSON object payload against the given keys (or a JWKS). When the
 * header names a `kid`, only keys with that kid are tried. No header member is ever used as a key,
 * and no `crit` extension is understood.
 *
 * @throws HubError `EGIF_ERR_JWS_MALFORMED`, `EGIF_ERR_JWS_ALGORITHM`, `EGIF_ERR_JWS_CRIT`,
 *   `EGIF_ERR_JWS_UNTRUSTED_KEY` (no key with that kid, or none that fits the algorithm),
 *   `EGIF_ERR_JWS_INVALID`.
 */
export function verifyCompact (jws: string, keys: readonly VerificationKey[] | Jwks): { header: JwsHeader, payload: Record<string, unknown> } {
  const [h, p, s] = splitCompact(jws, MAX_COMPACT)
  const header = parseProtectedHeader(h, NOTHING_UNDERSTOOD)
  const payload = decodeJsonObject(p, 'payload')
  const signature = decodeSignature(s)

  const all = Array.isArray(keys) ? keys as readonly VerificationKey[] : keysFromJwks(keys as Jwks)
  const named = header.kid === undefined ? all : all.filter((k) => k.kid === header.kid)
  if (named.length === 0) throw new HubError('EGIF_ERR_JWS_UNTRUSTED_KEY', `no trusted key has kid ${String(header.kid)}`, { kid: header.kid })
  const fitting = named.filter((k) => (k.alg === undefined || k.alg === header.alg) && keyFitsAlgorithm(k.publicKey, header.alg))
  if (fitting.length === 0) throw new HubError('EGIF_ERR_JWS_ALGORITHM', `no trusted key fits ${header.alg}`, { alg: header.alg, kid: header.kid })

  const input = Buffer.from(`${h}.${p}`, 'ascii')
  if (!fitting.some((k) => verifyBytes(header.alg, k.publicKey, input, signature))) {
    throw new HubError('EGIF_ERR_JWS_INVALID', signatureShapeProblem(header.alg, fitting[0].publicKey, signature) ?? 'the JWS signature does not verify', { alg: header.alg, kid: header.kid })
  }
  return { header, payload }
}

/** Options of `signDetached`. */
export interface SignDetachedOptions {
  /** Put the key's certificate in the header as `x5c` (when the key has one). Default true. */
  x5c?: boolean
}

/**
 * Signs bytes as an RFC 7797 detached JWS with the unencoded payload (`b64: false`, `crit: ["b64"]`):
 * `header..signature`, the signature computed over `header.` followed by the exact bytes.
 */
export function signDetached (key: HubKey, bytes: Uint8Array, opts: SignDetachedOptions = {}): string {
  const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, b64: false, crit: ['b64'] }
  if (key.certificate !== undefined && opts.x5c !== false) header.x5c = [key.certificate.raw.toString('base64')]
  const h = encodeHeader(header)
  const input = Buffer.concat([Buffer.from(`${h}.`, 'ascii'), bytes])
  return `${h}..${signBytes(key.alg, key.privateKey, input).toString('base64url')}`
}

/** Options of `verifyDetached`. */
export interface DetachedVerifyOptions {
  /** What the sender may sign with: registered certificates and CA bindings. */
  trust: ParticipantTrust
  /** The time certificates must be valid at: when the hub received the message. */
  at: Date
  /**
   * Parsed certificates and keys to reuse between calls. Default: one cache per `trust` object,
   * kept as long as that object lives (as for XML signatures).
   */
  keys?: KeyCache
}

/** What a verified detached JWS tells the pipeline and the audit trail. */
export interface DetachedVerification {
  alg: JwsAlgorithm
  /** False for the RFC 7797 unencoded form, true for the RFC 7515 Appendix F form. */
  b64: boolean
  certificate: { fingerprint256: string, subject: string, trustPath: TrustPath }
}

function x5tS256 (cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url')
}

/** Rewords the trust module's signature errors in the JWS area, keeping their detail. */
function asJwsError (err: unknown): unknown {
  if (!isHubError(err)) return err
  if (err.code === 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY') return new HubError('EGIF_ERR_JWS_UNTRUSTED_KEY', err.message, err.extra)
  if (err.code === 'EGIF_ERR_SIGNATURE_CERT_NOT_VALID') return new HubError('EGIF_ERR_JWS_CERT_NOT_VALID', err.message, err.extra)
  return err
}

interface Candidate { cert: X509Certificate, trustPath: TrustPath }

function candidateKeys (header: JwsHeader, trust: ParticipantTrust, at: Date, keys: KeyCache): Candidate[] {
  const thumbprint = header['x5t#S256']
  if (header.x5c !== undefined) {
    let cert: X509Certificate
    try {
      cert = keys.certificate(header.x5c[0])
    } catch {
      throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the first x5c certificate cannot be read')
    }
    if (thumbprint !== undefined && thumbprint !== x5tS256(cert)) {
      throw new HubError('EGIF_ERR_JWS_MALFORMED', 'x5t#S256 does not match the x5c certificate')
    }
    let trustPath: TrustPath
    try {
      trustPath = checkPresentedCertificate(cert, trust, at)
    } catch (err) {
      throw asJwsError(err)
    }
    if (!keyFitsAlgorithm(keys.publicKey(cert), header.alg)) {
      throw new HubError('EGIF_ERR_JWS_ALGORITHM', `${header.alg} does not fit the certificate's ${keys.publicKey(cert).asymmetricKeyType ?? 'unknown'} key`, { alg: header.alg })
    }
    return [{ cert, trustPath }]
  }

  const named = thumbprint === undefined ? trust.certificates : trust.certificates.filter((c) => x5tS256(c) === thumbprint)
  if (named.length === 0) {
    throw new HubError('EGIF_ERR_JWS_UNTRUSTED_KEY', 'x5t#S256 names no certificate registered for the sender')
  }
  const fitting = named.filter((c) => keyFitsAlgorithm(keys.publicKey(c), header.alg))
  const valid = certificatesValidAt({ certificates: fitting, authorities: [] }, at)
  if (valid.length > 0) return valid.map((cert) => ({ cert, trustPath: 'registered' as const }))
  if (fitting.length > 0) {
    throw new HubError('EGIF_ERR_JWS_CERT_NOT_VALID', `no registered ${header.alg} certificate of the sender is valid at ${at.toISOString()}`)
  }
  const hint = trust.authorities.length > 0 ? '; a sender trusted through its CA must send its certificate in x5c' : ''
  throw new HubError('EGIF_ERR_JWS_UNTRUSTED_KEY', `no certificate registered for the sender fits ${header.alg}${hint}`, { alg: header.alg })
}

/**
 * Verifies a detached JWS (`EGIF-Signature`) over the exact body bytes. Accepts both detached
 * forms: RFC 7797 with `b64: false` (what the hub itself produces: the bytes are signed as they
 * are) and the RFC 7515 Appendix F form (the signature covers the base64url of the bytes), because
 * common JOSE libraries produce the second with no extension support.
 *
 * The key is the sender's: the `x5c` certificate when present (it must be registered or issued by
 * a bound CA, valid at `at`), else each registered certificate valid at `at` whose key fits `alg`.
 * `jwk`, `jku`, `x5u` and `kid` never select a key.
 *
 * @throws HubError `EGIF_ERR_JWS_MALFORMED`, `EGIF_ERR_JWS_ALGORITHM`, `EGIF_ERR_JWS_CRIT`,
 *   `EGIF_ERR_JWS_UNTRUSTED_KEY`, `EGIF_ERR_JWS_CERT_NOT_VALID`, `EGIF_ERR_JWS_INVALID`.
 */
export function verifyDetached (jws: string, body: Uint8Array, opts: DetachedVerifyOptions): DetachedVerification {
  const [h, p, s] = splitCompact(jws, MAX_DETACHED)
  if (p !== '') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'EGIF-Signature must be a detached JWS (header..signature), not one that carries a payload')
  const header = parseProtectedHeader(h, DETACHED_UNDERSTOOD)
  const signature = decodeSignature(s)
  const b64 = header.b64 !== false

  const keys = keyCacheFor(opts.trust, opts.keys)
  const candidates = candidateKeys(header, opts.trust, opts.at, keys)
  const input = b64
    ? Buffer.from(`${h}.${Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64url')}`, 'ascii')
    : Buffer.concat([Buffer.from(`${h}.`, 'ascii'), body])
  const signer = candidates.find((c) => verifyBytes(header.alg, keys.publicKey(c.cert), input, signature))
  if (signer === undefined) {
    const shape = signatureShapeProblem(header.alg, keys.publicKey(candidates[0].cert), signature)
    throw new HubError('EGIF_ERR_JWS_INVALID', shape ?? 'the detached JWS does not verify over the body bytes', { alg: header.alg })
  }
  return {
    alg: header.alg,
    b64,
    certificate: { fingerprint256: signer.cert.fingerprint256, subject: signer.cert.subject, trustPath: signer.trustPath }
  }
}
