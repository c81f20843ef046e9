import { createHash } from 'node:crypto'
import { HubError } from '../errors.js'
import type { HubKey } from './hub-key.js'
import { publicJwk, type Jwk, type Jwks } from './jwk.js'
import { signCompact, signDetached, verifyCompact, type SignDetachedOptions } from './jws.js'
import type { JwsHeader } from './jws-header.js'

function toJwk (key: HubKey): Jwk {
  const jwk: Jwk = { ...publicJwk(key.publicKey), kid: key.kid, alg: key.alg, use: 'sig' }
  if (key.certificate !== undefined) {
    jwk.x5c = [key.certificate.raw.toString('base64')]
    jwk['x5t#S256'] = createHash('sha256').update(key.certificate.raw).digest('base64url')
  }
  return jwk
}

/**
 * The hub's signing keys: the current key signs; previous keys stay published (and verify) so
 * receipts and seals signed before a rotation can still be checked. Public only in `jwks()`.
 */
export class HubKeyRing {
  readonly current: HubKey
  readonly previous: readonly HubKey[]
  readonly #jwks: Jwks

  /** @throws HubError `EGIF_ERR_KEY_DUPLICATE` when a key appears twice. */
  constructor (current: HubKey, previous: readonly HubKey[] = []) {
    const seen = new Set<string>()
    for (const key of [current, ...previous]) {
      if (seen.has(key.kid)) throw new HubError('EGIF_ERR_KEY_DUPLICATE', `the hub key ${key.kid} is configured more than once`)
      seen.add(key.kid)
    }
    this.current = current
    this.previous = [...previous]
    this.#jwks = { keys: [current, ...previous].map(toJwk) }
  }

  /** Every key, the current first. */
  get all (): readonly HubKey[] {
    return [this.current, ...this.previous]
  }

  /** The document served at `GET /.well-known/jwks.json`: a fresh copy, the current key first. */
  jwks (): Jwks {
    return structuredClone(this.#jwks)
  }

  /** Signs a JSON payload as a compact JWS with the current key. */
  signCompact (payload: object, header?: Record<string, unknown>): string {
    return signCompact(this.current, payload, header)
  }

  /** Signs bytes as an RFC 7797 detached JWS with the current key. */
  signDetached (bytes: Uint8Array, opts?: SignDetachedOptions): string {
    return signDetached(this.current, bytes, opts)
  }

  /** Verifies a compact JWS made by this hub with any of its keys, current or previous. */
  verifyCompact (jws: string): { header: JwsHeader, payload: Record<string, unknown> } {
    return verifyCompact(jws, this.all)
  }
}
