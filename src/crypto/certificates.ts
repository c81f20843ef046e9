import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { HubAlgorithm } from './hub-key.js'
import { buildCertificate, buildCsr } from './x509-builder.js'

/** Subject of a hub or agency certificate. Thai text is fine (encoded as UTF8String). */
export interface CertificateSubject {
  CN: string
  O: string
  OU?: string
  C: 'TH'
}

/** Options of `newKeyAndCsr`. */
export interface NewKeyOptions {
  alg: HubAlgorithm
  subject: CertificateSubject
  /** RSA modulus size for RS256 / PS256. Default 2048. */
  rsaBits?: 2048 | 3072
}

/** Options of `newKeyAndSelfSigned`. */
export interface NewSelfSignedOptions extends NewKeyOptions {
  /** Validity in days from now. */
  days: number
  /** Start of validity. Default: now. */
  notBefore?: Date
}

function newPrivateKey (alg: HubAlgorithm, rsaBits: number): KeyObject {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      // A plain rsaEncryption key serves both RS256 and PS256; the certificate is signed with PKCS#1 v1.5.
      return generateKeyPairSync('rsa', { modulusLength: rsaBits }).privateKey
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    case 'EdDSA':
      return generateKeyPairSync('ed25519').privateKey
    default:
      throw new TypeError(`unsupported algorithm ${String(alg)}`)
  }
}

function keyPem (key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/**
 * A new private key (unencrypted PKCS#8 PEM) and a self-signed certificate for it, for `egif keys new`:
 * a hub in a closed network can publish it in its JWKS while a CA-issued one is on its way.
 */
export function newKeyAndSelfSigned (opts: NewSelfSignedOptions): { keyPem: string, certPem: string } {
  if (!Number.isInteger(opts.days) || opts.days < 1) throw new RangeError('days must be a positive integer')
  const privateKey = newPrivateKey(opts.alg, opts.rsaBits ?? 2048)
  const notBefore = opts.notBefore ?? new Date()
  const notAfter = new Date(notBefore.getTime() + opts.days * 86_400_000)
  const cert = buildCertificate({ subject: opts.subject, subjectKey: privateKey, notBefore, notAfter })
  return { keyPem: keyPem(privateKey), certPem: cert.toString() }
}

/** A new private key (unencrypted PKCS#8 PEM) and a PKCS#10 request to send to the agency's CA. */
export function newKeyAndCsr (opts: NewKeyOptions): { keyPem: string, csrPem: string } {
  const privateKey = newPrivateKey(opts.alg, opts.rsaBits ?? 2048)
  return { keyPem: keyPem(privateKey), csrPem: buildCsr(opts.subject, privateKey) }
}
