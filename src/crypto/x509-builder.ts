import { createPublicKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import {
  AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, BasicConstraints, Certificate, Extension, Extensions,
  id_ce_basicConstraints, id_ce_keyUsage, KeyUsage, KeyUsageFlags, Name, RelativeDistinguishedName,
  SubjectPublicKeyInfo, TBSCertificate, Validity
} from '@peculiar/asn1-x509'
import { Attribute } from '@peculiar/asn1-x509'
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr'

/**
 * Builds X.509 certificates and PKCS#10 requests with the ASN.1 schemas of @peculiar/asn1-x509 and
 * signs them with node:crypto: synchronous, no WebCrypto provider or global polyfill to install.
 */

/** Distinguished-name fields, encoded in this order (country first). */
export interface DistinguishedName {
  C?: string
  ST?: string
  L?: string
  O?: string
  OU?: string
  CN?: string
}

const NAME_OIDS: Array<[keyof DistinguishedName, string]> = [
  ['C', '2.5.4.6'], ['ST', '2.5.4.8'], ['L', '2.5.4.7'], ['O', '2.5.4.10'], ['OU', '2.5.4.11'], ['CN', '2.5.4.3']
]

function toName (dn: DistinguishedName): Name {
  const rdns: RelativeDistinguishedName[] = []
  for (const [field, oid] of NAME_OIDS) {
    const value = dn[field]
    if (value === undefined || value === '') continue
    // RFC 5280: countryName is a PrintableString; the rest UTF8String (Thai names need it).
    const encoded = field === 'C' ? new AttributeValue({ printableString: value }) : new AttributeValue({ utf8String: value })
    rdns.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: encoded })]))
  }
  return new Name(rdns)
}

/** The X.509 signature algorithm a key signs with, and the hash node:crypto uses for it. */
function signatureAlgorithm (key: KeyObject): { id: AlgorithmIdentifier, hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { id: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }), hash: 'sha256' }
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve
      if (curve === 'secp384r1') return { id: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.3' }), hash: 'sha384' }
      if (curve === 'secp521r1') return { id: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.4' }), hash: 'sha512' }
      return { id: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), hash: 'sha256' }
    }
    case 'ed25519':
      return { id: new AlgorithmIdentifier({ algorithm: '1.3.101.112' }), hash: null }
    default:
      throw new TypeError(`cannot sign certificates with a ${key.asymmetricKeyType ?? 'unknown'} key`)
  }
}

function spki (publicKey: KeyObject): SubjectPublicKeyInfo {
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey
  return AsnConvert.parse(pub.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo)
}

function extension (oid: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(AsnConvert.serialize(value)) })
}

function pem (label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`
}

/** What to put in a certificate. */
export interface CertificateSpec {
  subject: DistinguishedName
  /** The certified key (public, or private from which the public half is taken). */
  subjectKey: KeyObject
  /** The issuer's name and private key. Default: self-signed with `subjectKey` (which must then be private). */
  issuer?: { name: DistinguishedName, privateKey: KeyObject }
  notBefore: Date
  notAfter: Date
  /** A CA certificate (basicConstraints cA, keyCertSign) instead of an end-entity signing certificate. Default false. */
  ca?: boolean
  /** Serial number bytes. Default: 16 random bytes. */
  serial?: Uint8Array
}

/** Builds and signs an X.509 v3 certificate. */
export function buildCertificate (spec: CertificateSpec): X509Certificate {
  const signer = spec.issuer?.privateKey ?? spec.subjectKey
  if (signer.type !== 'private') throw new TypeError('a self-signed certificate needs the private subject key')
  const { id, hash } = signatureAlgorithm(signer)
  const serial = Buffer.from(spec.serial ?? randomBytes(16))
  serial[0] &= 0x7f // a positive INTEGER
  if (serial[0] === 0) serial[0] = 1 // and minimally encoded
  const usage = spec.ca === true
    ? new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)
    : new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.nonRepudiation)
  const tbs = new TBSCertificate({
    version: 2,
    serialNumber: serial.buffer.slice(serial.byteOffset, serial.byteOffset + serial.byteLength),
    signature: id,
    issuer: toName(spec.issuer?.name ?? spec.subject),
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: toName(spec.subject),
    subjectPublicKeyInfo: spki(spec.subjectKey),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: spec.ca === true })),
      extension(id_ce_keyUsage, true, usage)
    ])
  })
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs))
  const signature = sign(hash, tbsDer, signer)
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: id, signatureValue: new Uint8Array(signature).buffer })
  return new X509Certificate(Buffer.from(AsnConvert.serialize(cert)))
}

/** Builds a PKCS#10 certificate signing request (PEM) for `privateKey`. */
export function buildCsr (subject: DistinguishedName, privateKey: KeyObject): string {
  const { id, hash } = signatureAlgorithm(privateKey)
  const info = new CertificationRequestInfo({
    version: 0,
    subject: toName(subject),
    subjectPKInfo: spki(privateKey),
    attributes: new Attributes([] as Attribute[])
  })
  const infoDer = Buffer.from(AsnConvert.serialize(info))
  const signature = sign(hash, infoDer, privateKey)
  const csr = new CertificationRequest({ certificationRequestInfo: info, signatureAlgorithm: id, signature: new Uint8Array(signature).buffer })
  return pem('CERTIFICATE REQUEST', AsnConvert.serialize(csr))
}
