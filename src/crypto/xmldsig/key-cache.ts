import { X509Certificate, type KeyObject } from 'node:crypto'

/**
 * Parsed keys and certificates, kept between verifications. Parsing a certificate or building a
 * KeyObject costs more than the RSA verification itself; a hub sees the same few certificates all
 * day. Bounded: when full, the oldest entry goes.
 */
export class KeyCache {
  private readonly keys = new Map<string, KeyObject>()
  private readonly presented = new Map<string, X509Certificate>()

  /** @param max entries per map before the oldest is dropped (default 1000). */
  constructor (private readonly max = 1000) {}

  /** The public key of a certificate, parsed once per SHA-256 fingerprint. */
  publicKey (cert: X509Certificate): KeyObject {
    const fp = cert.fingerprint256
    let key = this.keys.get(fp)
    if (key === undefined) {
      key = cert.publicKey
      remember(this.keys, fp, key, this.max)
    }
    return key
  }

  /** A certificate from a document's X509Certificate (base64 DER), parsed once per distinct text. */
  certificate (base64: string): X509Certificate {
    let cert = this.presented.get(base64)
    if (cert === undefined) {
      cert = new X509Certificate(Buffer.from(base64, 'base64'))
      remember(this.presented, base64, cert, this.max)
    }
    return cert
  }
}

function remember<V> (map: Map<string, V>, key: string, value: V, max: number): void {
  if (map.size >= max) map.delete(map.keys().next().value!)
  map.set(key, value)
}

const cachesByTrust = new WeakMap<object, KeyCache>()

/**
 * The cache to use for a sender: the one given, or one per trust object, shared by the XML and the
 * JWS verifiers and kept as long as the trust object lives (a participant's trust lives as long as
 * the registry).
 */
export function keyCacheFor (trust: object, given?: KeyCache): KeyCache {
  if (given !== undefined) return given
  let cache = cachesByTrust.get(trust)
  if (cache === undefined) {
    cache = new KeyCache()
    cachesByTrust.set(trust, cache)
  }
  return cache
}
