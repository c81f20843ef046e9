import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { HubError } from '../errors.js'
import { jwkThumbprint } from './jwk.js'
import { keyFitsAlgorithm } from './jws-algorithms.js'
import { readPkcs12 } from './pkcs12.js'

/** The algorithms the hub signs receipts and seals with. */
export type HubAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
export const HUB_ALGORITHMS: readonly HubAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA']

/** A hub signing key, parsed once (a PEM parsed on every signature costs more than the signature). */
export interface HubKey {
  /** RFC 7638 JWK thumbprint of the public key. */
  kid: string
  alg: HubAlgorithm
  privateKey: KeyObject
  publicKey: KeyObject
  /** The hub's X.509 certificate for this key, published in the JWKS as `x5c`. */
  certificate?: X509Certificate
}

/** Where a hub key comes from. Exactly one of `pem`, `pemFile`, `pkcs12File`. */
export interface HubKeySource {
  /** PEM text: a private key (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1), optionally followed by its certificate. */
  pem?: string
  /** File holding such PEM text. */
  pemFile?: string
  /** PEM certificate for the key (the first certificate whose key matches is used). Optional. */
  certFile?: string
  /** PKCS#12 (.p12 / .pfx) file with one private key and optionally its certificate chain. */
  pkcs12File?: string
  /** Passphrase of an encrypted PEM key or of the PKCS#12 file. Default: none (empty for PKCS#12). */
  passphrase?: string
  /** Signing algorithm. Default: RS256 for RSA, ES256 for P-256, EdDSA for Ed25519. */
  alg?: HubAlgorithm
}

const PRIVATE_PEM = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/
const CERT_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

function readFile (path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new HubError('EGIF_ERR_KEY_READ', `cannot read the hub ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
}

function privateKeyFromPem (pem: string, passphrase: string | undefined): KeyObject {
  const block = PRIVATE_PEM.exec(pem)
  if (block === null) throw new HubError('EGIF_ERR_KEY_FORMAT', 'no PEM private key block (BEGIN PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY)')
  // Decided from the PEM itself: OpenSSL's errors for a missing or wrong passphrase vary by version.
  const encrypted = block[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block[0])
  if (encrypted && passphrase === undefined) {
    throw new HubError('EGIF_ERR_KEY_PASSPHRASE', 'the PEM key is encrypted and no passphrase was given')
  }
  try {
    return createPrivateKey({ key: block[0], format: 'pem', passphrase })
  } catch (err) {
    if (encrypted) throw new HubError('EGIF_ERR_KEY_PASSPHRASE', 'the PEM key cannot be decrypted: the passphrase is wrong')
    throw new HubError('EGIF_ERR_KEY_FORMAT', `the PEM private key cannot be read: ${(err as Error).message}`)
  }
}

function certificatesFromPem (pem: string, where: string): X509Certificate[] {
  const out: X509Certificate[] = []
  for (const block of pem.match(CERT_PEM) ?? []) {
    try {
      out.push(new X509Certificate(block))
    } catch (err) {
      throw new HubError('EGIF_ERR_KEY_FORMAT', `a certificate in ${where} cannot be read: ${(err as Error).message}`)
    }
  }
  return out
}

function spkiDer (key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' })
}

function sameKey (a: KeyObject, b: KeyObject): boolean {
  return spkiDer(a).equals(spkiDer(b))
}

function defaultAlgorithm (key: KeyObject): HubAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'rsa': return 'RS256'
    case 'ec': return 'ES256'
    case 'ed25519': return 'EdDSA'
    default:
      throw new HubError('EGIF_ERR_KEY_UNSUPPORTED', `a hub key must be RSA (2048 bits or more), ECDSA P-256 or Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`)
  }
}

/**
 * Makes a HubKey from a private key, checking that the key is supported, that `alg` fits it and
 * that the certificate (if any) holds its public key.
 */
export function hubKeyFromPrivateKey (privateKey: KeyObject, opts: { alg?: HubAlgorithm, certificate?: X509Certificate } = {}): HubKey {
  const natural = defaultAlgorithm(privateKey)
  const alg = opts.alg ?? natural
  if (!HUB_ALGORITHMS.includes(alg)) {
    throw new HubError('EGIF_ERR_KEY_ALGORITHM', `the hub signs with ${HUB_ALGORITHMS.join(', ')}, not ${String(alg)}`)
  }
  if (!keyFitsAlgorithm(privateKey, alg)) {
    const bits = privateKey.asymmetricKeyDetails?.modulusLength
    const curve = privateKey.asymmetricKeyDetails?.namedCurve
    if (privateKey.asymmetricKeyType === 'rsa' && bits !== undefined && bits < 2048) {
      throw new HubError('EGIF_ERR_KEY_UNSUPPORTED', `the RSA key has ${bits} bits; at least 2048 are required`)
    }
    if (privateKey.asymmetricKeyType === 'ec' && natural === 'ES256' && curve !== 'prime256v1') {
      throw new HubError('EGIF_ERR_KEY_UNSUPPORTED', `the ECDSA key is on ${curve ?? 'an unknown curve'}; the hub signs with P-256 (ES256)`)
    }
    throw new HubError('EGIF_ERR_KEY_ALGORITHM', `${alg} does not fit a ${privateKey.asymmetricKeyType ?? 'unknown'} key`)
  }
  const publicKey = createPublicKey(privateKey)
  if (opts.certificate !== undefined && !sameKey(opts.certificate.publicKey, publicKey)) {
    throw new HubError('EGIF_ERR_KEY_CERT_MISMATCH', `the certificate ${opts.certificate.subject.replace(/\n/g, ', ')} holds another public key than the hub key`)
  }
  return { kid: jwkThumbprint(publicKey), alg, privateKey, publicKey, certificate: opts.certificate }
}

/** The certificate among `candidates` that holds `key`, or a clear error when some were given and none fits. */
function certificateFor (key: KeyObject, candidates: X509Certificate[], where: string): X509Certificate | undefined {
  if (candidates.length === 0) return undefined
  const match = candidates.find((c) => sameKey(c.publicKey, key))
  if (match === undefined) throw new HubError('EGIF_ERR_KEY_CERT_MISMATCH', `no certificate in ${where} holds the hub key's public key`)
  return match
}

/**
 * Loads the hub's signing key from PEM or PKCS#12. The key is parsed once here; signing uses the
 * KeyObject.
 *
 * @throws HubError `EGIF_ERR_KEY_SOURCE`, `EGIF_ERR_KEY_READ`, `EGIF_ERR_KEY_FORMAT`,
 *   `EGIF_ERR_KEY_PASSPHRASE`, `EGIF_ERR_KEY_UNSUPPORTED`, `EGIF_ERR_KEY_ALGORITHM`,
 *   `EGIF_ERR_KEY_CERT_MISMATCH`.
 */
export function loadHubKey (src: HubKeySource): HubKey {
  const sources = [src.pem, src.pemFile, src.pkcs12File].filter((s) => s !== undefined)
  if (sources.length !== 1) {
    throw new HubError('EGIF_ERR_KEY_SOURCE', `give exactly one of pem, pemFile, pkcs12File (got ${sources.length})`)
  }
  const extra = src.certFile === undefined ? [] : certificatesFromPem(readFile(src.certFile, 'certificate').toString('utf8'), src.certFile)
  if (src.certFile !== undefined && extra.length === 0) {
    throw new HubError('EGIF_ERR_KEY_FORMAT', `${src.certFile} holds no PEM certificate`)
  }

  if (src.pkcs12File !== undefined) {
    const { privateKey, certificates } = readPkcs12(readFile(src.pkcs12File, 'PKCS#12 file'), src.passphrase)
    const certificate = extra.length > 0
      ? certificateFor(privateKey, extra, src.certFile ?? '')
      : certificates.find((c) => sameKey(c.publicKey, privateKey))
    return hubKeyFromPrivateKey(privateKey, { alg: src.alg, certificate })
  }

  const where = src.pemFile ?? 'the PEM text'
  const pem = src.pem ?? readFile(src.pemFile ?? '', 'key file').toString('utf8')
  const privateKey = privateKeyFromPem(pem, src.passphrase)
  const certificate = certificateFor(privateKey, extra.length > 0 ? extra : certificatesFromPem(pem, where), src.certFile ?? where)
  return hubKeyFromPrivateKey(privateKey, { alg: src.alg, certificate })
}

/** Options of `generateHubKey`. */
export interface GenerateHubKeyOptions {
  /** RSA modulus size for RS256 / PS256. Default 2048 (3072 signs about 3× slower). */
  rsaBits?: 2048 | 3072
}

/** A new key without certificate, for embedded and demo mode; the caller stores it (`exportHubKeyPem`). */
export function generateHubKey (alg: HubAlgorithm, opts: GenerateHubKeyOptions = {}): HubKey {
  let privateKey: KeyObject
  switch (alg) {
    case 'RS256':
    case 'PS256':
      privateKey = generateKeyPairSync('rsa', { modulusLength: opts.rsaBits ?? 2048 }).privateKey
      break
    case 'ES256':
      privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      break
    case 'EdDSA':
      privateKey = generateKeyPairSync('ed25519').privateKey
      break
    default:
      throw new HubError('EGIF_ERR_KEY_ALGORITHM', `the hub signs with ${HUB_ALGORITHMS.join(', ')}, not ${String(alg)}`)
  }
  return hubKeyFromPrivateKey(privateKey, { alg })
}

/** The private key as unencrypted PKCS#8 PEM, with the certificate after it when there is one (what `loadHubKey({ pem })` reads back). */
export function exportHubKeyPem (key: HubKey): string {
  const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return key.certificate === undefined ? pem : pem + key.certificate.toString()
}
