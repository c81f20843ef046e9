import { HubError } from '../errors.js'
import { isJwsAlgorithm, type JwsAlgorithm } from './jws-algorithms.js'

/** A JWS protected header after the checks in `parseProtectedHeader`. */
export interface JwsHeader {
  alg: JwsAlgorithm
  kid?: string
  typ?: string
  /** RFC 7797: false when the payload is signed as raw bytes rather than base64url. */
  b64?: boolean
  crit?: string[]
  /** Certificate chain, standard base64 DER, the signing certificate first. */
  x5c?: string[]
  'x5t#S256'?: string
  [member: string]: unknown
}

const B64URL = /^[A-Za-z0-9_-]*$/
const B64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Header names RFC 7515 §4.1 defines; §4.1.11 forbids listing them in `crit`. */
const REGISTERED = new Set(['alg', 'jku', 'jwk', 'kid', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty', 'crit'])

/** The longest x5c chain accepted: enough for any real PKI, small enough to bound the work. */
const MAX_X5C = 10

/**
 * Decodes one base64url segment strictly: Buffer's decoder skips characters outside the alphabet
 * and ignores trailing bits, which would let several strings stand for the same JWS.
 */
export function decodeSegment (segment: string, what: string): Buffer {
  const bytes = B64URL.test(segment) ? Buffer.from(segment, 'base64url') : undefined
  // The round trip also refuses non-canonical encodings (stray trailing bits, impossible lengths).
  if (bytes === undefined || bytes.toString('base64url') !== segment) {
    throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS ${what} is not base64url`)
  }
  return bytes
}

export function decodeJsonObject (segment: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decodeSegment(segment, what).toString('utf8'))
  } catch (err) {
    if (err instanceof HubError) throw err
    throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS ${what} is not JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS ${what} is not a JSON object`)
  }
  return value as Record<string, unknown>
}

/**
 * Decodes and checks a protected header: the algorithm is on the allow-list, every `crit` member is
 * one this verifier understands (`understood`) and present, `b64: false` is only used as RFC 7797
 * requires (listed in `crit`), and `x5c` is a short list of base64 certificates.
 *
 * Headers that would point the verifier at a key (`jwk`, `jku`, `x5u`) are ignored: keys come only
 * from what the verifier trusts.
 *
 * @throws HubError `EGIF_ERR_JWS_MALFORMED`, `EGIF_ERR_JWS_ALGORITHM`, `EGIF_ERR_JWS_CRIT`.
 */
export function parseProtectedHeader (segment: string, understood: ReadonlySet<string>): JwsHeader {
  const header = decodeJsonObject(segment, 'header')

  const alg = header.alg
  if (typeof alg !== 'string') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS header has no alg')
  if (!isJwsAlgorithm(alg)) {
    const why = alg.toLowerCase() === 'none'
      ? 'unsigned JWS (alg none) are refused'
      : /^HS\d+$/i.test(alg) ? `${alg} (HMAC) is refused: the hub verifies only public-key signatures` : `${alg} is not an allowed algorithm`
    throw new HubError('EGIF_ERR_JWS_ALGORITHM', why, { alg })
  }

  if (header.crit !== undefined) {
    const crit = header.crit
    if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'string' && c !== '')) {
      throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS header crit must be a non-empty array of names')
    }
    if (new Set(crit).size !== crit.length) throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS header crit repeats a name')
    for (const name of crit as string[]) {
      if (REGISTERED.has(name)) throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS header crit may not list ${name}`)
      if (!understood.has(name)) throw new HubError('EGIF_ERR_JWS_CRIT', `the JWS header marks ${name} as critical, which this verifier does not understand`, { crit })
      if (!(name in header)) throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS header lists ${name} in crit but does not carry it`)
    }
  }

  if (header.b64 !== undefined) {
    if (typeof header.b64 !== 'boolean') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS header b64 must be true or false')
    // RFC 7797 §6: b64 must be critical, or a verifier that ignores it would verify other bytes.
    if (!(header.crit as string[] | undefined)?.includes('b64')) {
      throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS header carries b64 without listing it in crit (RFC 7797 §6)')
    }
  }

  for (const name of ['kid', 'typ', 'x5t#S256']) {
    if (header[name] !== undefined && typeof header[name] !== 'string') {
      throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS header ${name} must be a string`)
    }
  }

  if (header.x5c !== undefined) {
    const x5c = header.x5c
    if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_X5C || !x5c.every((c) => typeof c === 'string' && B64.test(c))) {
      throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS header x5c must be 1 to ${MAX_X5C} base64 (not base64url) DER certificates`)
    }
  }

  return header as JwsHeader
}

/** Splits a compact JWS into its three segments, bounding its length first. */
export function splitCompact (jws: unknown, maxLength: number): [string, string, string] {
  if (typeof jws !== 'string' || jws === '') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS is empty')
  if (jws.length > maxLength) throw new HubError('EGIF_ERR_JWS_MALFORMED', `the JWS is longer than ${maxLength} characters`)
  const parts = jws.split('.')
  if (parts.length !== 3) {
    throw new HubError('EGIF_ERR_JWS_MALFORMED', `a compact JWS has three dot-separated parts, this one has ${parts.length}`)
  }
  if (parts[0] === '') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS header is empty')
  return parts as [string, string, string]
}

/** Decodes the signature segment, which must not be empty (checked after the header, so `alg: none` is named as such). */
export function decodeSignature (segment: string): Buffer {
  if (segment === '') throw new HubError('EGIF_ERR_JWS_MALFORMED', 'the JWS signature is empty')
  return decodeSegment(segment, 'signature')
}
