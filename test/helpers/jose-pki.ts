// Keys, certificates and raw JWS pieces for the crypto tests. Everything is generated here, at
// test time: no key material is checked in.
import { execFileSync } from 'node:child_process'
import { constants, createHash, generateKeyPairSync, sign, type KeyObject, type X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildCertificate, type DistinguishedName } from '../../src/crypto/x509-builder.js'
import type { ParticipantTrust } from '../../src/crypto/trust.js'

export type KeyKind = 'rsa2048' | 'rsa3072' | 'p256' | 'p384' | 'p521' | 'ed25519' | 'ed448'

export function newKey (kind: KeyKind): KeyObject {
  switch (kind) {
    case 'rsa2048': return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    case 'rsa3072': return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey
    case 'p256': return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    case 'p384': return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey
    case 'p521': return generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey
    case 'ed25519': return generateKeyPairSync('ed25519').privateKey
    case 'ed448': return generateKeyPairSync('ed448').privateKey
  }
}

/** The key kind each JWS algorithm is exercised with. */
export const KIND_FOR_ALG = {
  RS256: 'rsa2048',
  RS384: 'rsa2048',
  RS512: 'rsa3072',
  PS256: 'rsa2048',
  PS384: 'rsa3072',
  PS512: 'rsa2048',
  ES256: 'p256',
  ES384: 'p384',
  ES512: 'p521',
  EdDSA: 'ed25519'
} as const satisfies Record<string, KeyKind>

export const DAY = 86_400_000

export function daysFromNow (days: number, from = new Date()): Date {
  return new Date(from.getTime() + days * DAY)
}

export interface Issued {
  privateKey: KeyObject
  cert: X509Certificate
}

/** A signing certificate for `privateKey` (self-signed unless `issuer` is given), valid by default from yesterday for a year. */
export function certify (privateKey: KeyObject, opts: { subject?: DistinguishedName, issuer?: { cert: X509Certificate, privateKey: KeyObject, name: DistinguishedName }, notBefore?: Date, notAfter?: Date, ca?: boolean } = {}): X509Certificate {
  return buildCertificate({
    subject: opts.subject ?? { CN: 'Test Agency signer', O: 'Test Agency', C: 'TH' },
    subjectKey: privateKey,
    issuer: opts.issuer === undefined ? undefined : { name: opts.issuer.name, privateKey: opts.issuer.privateKey },
    notBefore: opts.notBefore ?? daysFromNow(-1),
    notAfter: opts.notAfter ?? daysFromNow(365),
    ca: opts.ca
  })
}

/** A key and a self-signed certificate for it. */
export function newSigner (kind: KeyKind, opts: Parameters<typeof certify>[1] = {}): Issued {
  const privateKey = newKey(kind)
  return { privateKey, cert: certify(privateKey, opts) }
}

export const CA_NAME: DistinguishedName = { CN: 'Test Government CA', O: 'Test PKI', C: 'TH' }

/** A CA, and a function that issues end-entity certificates from it. */
export function newCa (kind: KeyKind = 'p256'): Issued & { name: DistinguishedName, issue: (subject: DistinguishedName, kindOfSubject: KeyKind, opts?: { notBefore?: Date, notAfter?: Date }) => Issued } {
  const privateKey = newKey(kind)
  const cert = certify(privateKey, { subject: CA_NAME, ca: true, notBefore: daysFromNow(-30), notAfter: daysFromNow(3650) })
  const issuer = { cert, privateKey, name: CA_NAME }
  return {
    privateKey,
    cert,
    name: CA_NAME,
    issue (subject, kindOfSubject, opts = {}) {
      const key = newKey(kindOfSubject)
      return { privateKey: key, cert: certify(key, { subject, issuer, ...opts }) }
    }
  }
}

export function registered (...certs: X509Certificate[]): ParticipantTrust {
  return { certificates: certs, authorities: [] }
}

export function b64u (value: string | Uint8Array | object): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url')
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url')
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/**
 * A compact JWS built by hand, with any header at all: the tool for hostile inputs. `detached`
 * leaves the payload out; `b64: false` in the header signs the raw bytes (RFC 7797).
 */
export function handmadeJws (header: Record<string, unknown>, payload: Uint8Array, signer: (input: Buffer) => Buffer, detached = true): string {
  const h = b64u(header)
  const raw = header.b64 === false
  const p = raw ? Buffer.from(payload).toString('latin1') : b64u(payload)
  const input = raw ? Buffer.concat([Buffer.from(`${h}.`), payload]) : Buffer.from(`${h}.${p}`)
  return `${h}.${detached ? '' : p}.${signer(input).toString('base64url')}`
}

/** A JOSE (R||S) signer for a JWS algorithm, independent of the code under test's table. */
export function joseSigner (alg: string, privateKey: KeyObject): (input: Buffer) => Buffer {
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`
  if (alg.startsWith('ES')) return (input) => sign(hash, input, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  if (alg.startsWith('PS')) return (input) => sign(hash, input, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST })
  return (input) => sign(hash, input, privateKey)
}

export function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Writes key and certificate PEM to `dir` and bundles them into a PKCS#12 with the openssl CLI (tests only). */
export function opensslPkcs12 (dir: string, name: string, parts: { privateKey: KeyObject, certs: X509Certificate[], passphrase: string, legacy?: boolean }): string {
  const keyFile = join(dir, `${name}.key`)
  const certFile = join(dir, `${name}.crt`)
  const out = join(dir, `${name}.p12`)
  writeFileSync(keyFile, parts.privateKey.export({ type: 'pkcs8', format: 'pem' }))
  writeFileSync(certFile, parts.certs.map((c) => c.toString()).join(''))
  const args = ['pkcs12', '-export', '-inkey', keyFile, '-in', certFile, '-passout', `pass:${parts.passphrase}`, '-out', out]
  if (parts.legacy === true) args.push('-legacy')
  execFileSync('openssl', args, { stdio: 'pipe' })
  return out
}
