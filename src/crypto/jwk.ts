import { createHash, createPublicKey, type KeyObject } from 'node:crypto'

/** A public JSON Web Key (RFC 7517) as the hub publishes and reads it. */
export interface Jwk {
  kty: string
  kid?: string
  alg?: string
  use?: string
  crv?: string
  n?: string
  e?: string
  x?: string
  y?: string
  /** Certificate chain, each standard base64 (not base64url) DER, the key's certificate first. */
  x5c?: string[]
  'x5t#S256'?: string
  [member: string]: unknown
}

export interface Jwks {
  keys: Jwk[]
}

/** The members that define a public key of each type, in the order RFC 7638 hashes them. */
const REQUIRED: Record<string, readonly string[]> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x']
}

function required (jwk: Record<string, unknown>): Record<string, string> {
  const names = REQUIRED[String(jwk.kty)]
  if (names === undefined) throw new Error(`unsupported JWK key type ${String(jwk.kty)}`)
  const out: Record<string, string> = {}
  for (const name of names) {
    const value = jwk[name]
    if (typeof value !== 'string' || value === '') throw new Error(`JWK member ${name} is missing`)
    out[name] = value
  }
  return out
}

/** The public members of a key as a JWK (never `d`, `p`, `q` or other private members). */
export function publicJwk (key: KeyObject): Jwk {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return required(pub.export({ format: 'jwk' })) as Jwk
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): the hub's `kid`. */
export function jwkThumbprint (key: KeyObject): string {
  const members = required(publicJwk(key))
  // RFC 7638 §3: the required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify(members, Object.keys(members).sort())
  return createHash('sha256').update(canonical).digest('base64url')
}

/**
 * Makes a public key from a JWK, reading only the members that define the public key, so a JWK
 * that (wrongly) carries private members still yields only its public half. Symmetric (`oct`)
 * keys are refused: the hub never verifies with a shared secret.
 *
 * @throws Error when the JWK is not an RSA, EC or OKP public key.
 */
export function importPublicJwk (jwk: unknown): KeyObject {
  if (jwk === null || typeof jwk !== 'object') throw new Error('a JWK must be an object')
  return createPublicKey({ key: required(jwk as Record<string, unknown>), format: 'jwk' })
}
