import { constants, sign, verify, type KeyObject, type SignKeyObjectInput } from 'node:crypto'

/**
 * The JWS algorithms the hub accepts (RFC 7518 §3, RFC 8037 for EdDSA). Everything else is
 * refused: `none`, every HMAC (`HS*`: a verifier that accepts them can be fooled into using a
 * public key as the HMAC secret) and any name not listed here.
 */
export const JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const
export type JwsAlgorithm = typeof JWS_ALGORITHMS[number]

/** The smallest RSA modulus accepted for signing or verifying (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048

interface AlgSpec {
  family: 'rsa' | 'pss' | 'ec' | 'eddsa'
  hash: 'sha256' | 'sha384' | 'sha512' | null
  /** ECDSA only: node's curve name and the byte length of R and of S. */
  curve?: string
  part?: number
}

const SPECS: Record<JwsAlgorithm, AlgSpec> = {
  RS256: { family: 'rsa', hash: 'sha256' },
  RS384: { family: 'rsa', hash: 'sha384' },
  RS512: { family: 'rsa', hash: 'sha512' },
  PS256: { family: 'pss', hash: 'sha256' },
  PS384: { family: 'pss', hash: 'sha384' },
  PS512: { family: 'pss', hash: 'sha512' },
  ES256: { family: 'ec', hash: 'sha256', curve: 'prime256v1', part: 32 },
  ES384: { family: 'ec', hash: 'sha384', curve: 'secp384r1', part: 48 },
  ES512: { family: 'ec', hash: 'sha512', curve: 'secp521r1', part: 66 },
  EdDSA: { family: 'eddsa', hash: null }
}

const ALLOWED: ReadonlySet<string> = new Set(JWS_ALGORITHMS)

export function isJwsAlgorithm (alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && ALLOWED.has(alg)
}

function rsaBits (key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0
}

/**
 * Whether `key` (public or private) may be used with `alg`: the key type, the curve for ECDSA,
 * at least 2048 bits for RSA. An `rsa-pss` key (id-RSASSA-PSS) fits only PS* with its own hash.
 */
export function keyFitsAlgorithm (key: KeyObject, alg: JwsAlgorithm): boolean {
  const spec = SPECS[alg]
  const type = key.asymmetricKeyType
  switch (spec.family) {
    case 'rsa':
      return type === 'rsa' && rsaBits(key) >= MIN_RSA_BITS
    case 'pss': {
      if (type === 'rsa') return rsaBits(key) >= MIN_RSA_BITS
      if (type !== 'rsa-pss' || rsaBits(key) < MIN_RSA_BITS) return false
      const restricted = key.asymmetricKeyDetails?.hashAlgorithm
      return restricted === undefined || restricted === spec.hash
    }
    case 'ec':
      return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === spec.curve
    case 'eddsa':
      return type === 'ed25519' || type === 'ed448'
  }
}

function options (alg: JwsAlgorithm, key: KeyObject): SignKeyObjectInput {
  const spec = SPECS[alg]
  if (spec.family === 'pss') {
    // RFC 7518 §3.5: the salt is as long as the hash output.
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
  }
  // JOSE carries ECDSA signatures as R||S of fixed length (RFC 7518 §3.4), not DER.
  if (spec.family === 'ec') return { key, dsaEncoding: 'ieee-p1363' }
  return { key }
}

/** Signs `data` with `alg`. The caller has checked that the key fits (`keyFitsAlgorithm`). */
export function signBytes (alg: JwsAlgorithm, privateKey: KeyObject, data: Uint8Array): Buffer {
  return sign(SPECS[alg].hash, data, options(alg, privateKey))
}

/**
 * Explains why `signature` cannot be an `alg` signature for `key` by its length alone, or
 * returns undefined. The usual case is an ECDSA signature in DER (what OpenSSL and Java produce)
 * where JOSE expects R||S.
 */
export function signatureShapeProblem (alg: JwsAlgorithm, key: KeyObject, signature: Uint8Array): string | undefined {
  const spec = SPECS[alg]
  let expected: number
  if (spec.family === 'ec') expected = 2 * (spec.part ?? 0)
  else if (spec.family === 'eddsa') expected = key.asymmetricKeyType === 'ed448' ? 114 : 64
  else expected = Math.ceil(rsaBits(key) / 8)
  if (signature.length === expected) return undefined
  const der = spec.family === 'ec' && signature[0] === 0x30 ? ' (it looks DER-encoded; JOSE ECDSA signatures are the raw R||S)' : ''
  return `an ${alg} signature for this key has ${expected} bytes, this one has ${signature.length}${der}`
}

/** Verifies an `alg` signature; false for a wrong signature or one of the wrong shape, never throws for those. */
export function verifyBytes (alg: JwsAlgorithm, publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (!keyFitsAlgorithm(publicKey, alg)) return false
  if (signatureShapeProblem(alg, publicKey, signature) !== undefined) return false
  try {
    return verify(SPECS[alg].hash, data, options(alg, publicKey), signature)
  } catch {
    // OpenSSL rejects some malformed inputs by throwing rather than returning false.
    return false
  }
}
