import { constants } from 'node:crypto'
import { XmlC14NMode } from 'libxml2-wasm'

/**
 * The algorithms the hub accepts in an XML signature (DESIGN §5), by URI. Anything not listed here
 * is refused: SHA-1, HMAC, DSA, XSLT, XPath and every URI the hub does not know.
 */

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'
export const DSIG11_NS = 'http://www.w3.org/2009/xmldsig11#'
export const XADES_NS = 'http://uri.etsi.org/01903/v1.3.2#'
export const XADES141_NS = 'http://uri.etsi.org/01903/v1.4.1#'
export const SIGNED_PROPERTIES_TYPE = 'http://uri.etsi.org/01903#SignedProperties'
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'

export type C14nMode = typeof XmlC14NMode[keyof typeof XmlC14NMode]

export interface C14nMethod {
  mode: C14nMode
  withComments: boolean
}

export const C14N_METHODS: ReadonlyMap<string, C14nMethod> = new Map([
  ['http://www.w3.org/TR/2001/REC-xml-c14n-20010315', { mode: XmlC14NMode.XML_C14N_1_0, withComments: false }],
  ['http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments', { mode: XmlC14NMode.XML_C14N_1_0, withComments: true }],
  ['http://www.w3.org/2006/12/xml-c14n11', { mode: XmlC14NMode.XML_C14N_1_1, withComments: false }],
  ['http://www.w3.org/2006/12/xml-c14n11#WithComments', { mode: XmlC14NMode.XML_C14N_1_1, withComments: true }],
  ['http://www.w3.org/2001/10/xml-exc-c14n#', { mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, withComments: false }],
  ['http://www.w3.org/2001/10/xml-exc-c14n#WithComments', { mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0, withComments: true }]
])

export const C14N_URI = {
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'exc-c14n': 'http://www.w3.org/2001/10/xml-exc-c14n#'
} as const

export type DigestName = 'sha256' | 'sha384' | 'sha512'

export const DIGESTS: ReadonlyMap<string, DigestName> = new Map([
  ['http://www.w3.org/2001/04/xmlenc#sha256', 'sha256'],
  ['http://www.w3.org/2001/04/xmldsig-more#sha384', 'sha384'],
  ['http://www.w3.org/2001/04/xmlenc#sha512', 'sha512']
])

export const DIGEST_URI: Record<DigestName, string> = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha384: 'http://www.w3.org/2001/04/xmldsig-more#sha384',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512'
}

const DIGEST_BYTES: Record<DigestName, number> = { sha256: 32, sha384: 48, sha512: 64 }

export interface SignatureAlgorithm {
  /** The key type the algorithm needs (node's `KeyObject.asymmetricKeyType`). */
  keyType: 'rsa' | 'ec'
  hash: DigestName
  /** RSA padding or ECDSA encoding, as node:crypto's `verify` takes them. */
  padding?: number
  saltLength?: number
  dsaEncoding?: 'ieee-p1363'
}

export const SIGNATURE_METHODS: ReadonlyMap<string, SignatureAlgorithm> = new Map<string, SignatureAlgorithm>([
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', { keyType: 'rsa', hash: 'sha256' }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', { keyType: 'rsa', hash: 'sha384' }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', { keyType: 'rsa', hash: 'sha512' }],
  // RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash (RFC 6931 §2.3.10)
  ...(['sha256', 'sha384', 'sha512'] as const).map((h): [string, SignatureAlgorithm] => [
    `http://www.w3.org/2007/05/xmldsig-more#${h}-rsa-MGF1`,
    { keyType: 'rsa', hash: h, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_BYTES[h] }
  ]),
  // XML-DSig carries ECDSA signatures as r || s (RFC 4050), not DER
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', { keyType: 'ec', hash: 'sha256', dsaEncoding: 'ieee-p1363' }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', { keyType: 'ec', hash: 'sha384', dsaEncoding: 'ieee-p1363' }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', { keyType: 'ec', hash: 'sha512', dsaEncoding: 'ieee-p1363' }]
])

/** The SignatureMethod URI for a key type, digest and RSA padding. */
export function signatureMethodUri (keyType: 'rsa' | 'ec', hash: DigestName, pss = false): string {
  if (keyType === 'ec') return `http://www.w3.org/2001/04/xmldsig-more#ecdsa-${hash}`
  return pss ? `http://www.w3.org/2007/05/xmldsig-more#${hash}-rsa-MGF1` : `http://www.w3.org/2001/04/xmldsig-more#rsa-${hash}`
}

/** At most this many transforms per reference: enveloped + one C14N is all a valid signature needs. */
export const MAX_TRANSFORMS = 5
