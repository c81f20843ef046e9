import { constants, createHash, randomUUID, sign as signBytes, type KeyObject, type X509Certificate } from 'node:crypto'
import { XmlDocument } from 'libxml2-wasm'
import {
  C14N_METHODS, C14N_URI, DIGEST_URI, DSIG_NS, ENVELOPED, SIGNED_PROPERTIES_TYPE, XADES_NS, signatureMethodUri,
  type C14nMethod, type DigestName
} from './algorithms.js'
import { OctetCollector, canonicalizeDocument, canonicalizeSubtree } from './c14n.js'
import { ELEMENT, attribute, documentPointer, firstChild, nextSibling, nodeType, rootElement, type NodePtr } from './native.js'
import { scanDocument } from './scan.js'

export interface SignXmlOptions {
  /** The private key (RSA or ECDSA P-256/384/521), parsed once by the caller. */
  key: KeyObject
  /** The certificate of `key`; written into KeyInfo/X509Data (and the XAdES SigningCertificate). */
  certificate: X509Certificate
  form: 'xmldsig' | 'xades-bes'
  /** Canonicalization for SignedInfo and every reference. Default 'c14n' (inclusive C14N 1.0, as ETDA e-Tax uses). */
  c14n?: 'c14n' | 'exc-c14n'
  /** Digest for the references and the signature method. Default 'sha256'. */
  digest?: DigestName
  /** 'whole': `URI=""`; 'id': `URI="#<root Id>"` (the root must carry an Id). Default 'whole'. */
  reference?: 'whole' | 'id'
  /** Sign RSA with RSASSA-PSS instead of PKCS#1 v1.5. Default false. */
  pss?: boolean
  /** The XAdES SigningTime. Default: now. */
  signingTime?: Date
}

/**
 * Signs a document with an enveloped signature appended as the root's last child. Every byte of
 * the document outside the inserted Signature stays as it was (BOM, declaration, whitespace).
 */
export function signXml (bytes: Uint8Array, opts: SignXmlOptions): Buffer {
  const digest = opts.digest ?? 'sha256'
  const c14nUri = C14N_URI[opts.c14n ?? 'c14n']
  const c14n: C14nMethod = C14N_METHODS.get(c14nUri)!
  const keyType = opts.key.asymmetricKeyType
  if (keyType !== 'rsa' && keyType !== 'ec') throw new TypeError(`signXml signs with RSA or ECDSA keys, not ${keyType ?? 'this key'}`)
  if (opts.pss === true && keyType !== 'rsa') throw new TypeError('pss applies to RSA keys only')

  const text = Buffer.from(bytes).toString('utf8')
  const original = XmlDocument.fromBuffer(bytes)
  let rootInfo: { qname: string, id: string | null }
  let docDigest: string
  try {
    const docPtr = documentPointer(original)
    if (scanDocument(docPtr).signatures.length > 0) throw new TypeError('the document is already signed; the hub accepts one signature per document')
    const root = original.root
    const rootPtr = rootElement(docPtr)
    rootInfo = { qname: root.prefix === '' ? root.name : `${root.prefix}:${root.name}`, id: rootId(rootPtr) }
    // Nothing to exclude yet: the document without the signature is what the enveloped transform will see
    const hash = createHash(digest)
    canonicalizeDocument(original, opts.reference === 'id' ? 'root' : 'document', 0, { mode: c14n.mode, withComments: false }, hash)
    docDigest = hash.digest('base64')
  } finally {
    original.dispose()
  }
  let uri = ''
  if (opts.reference === 'id') {
    if (rootInfo.id === null) throw new TypeError('reference "id" needs an Id attribute on the document root')
    uri = `#${rootInfo.id}`
  }

  const sigId = `xmldsig-${randomUUID()}`
  const spId = `${sigId}-signedprops`
  const transform = (a: string): string => `<ds:Transform Algorithm="${a}"/>`
  const digestParts = (value: string): string => `<ds:DigestMethod Algorithm="${DIGEST_URI[digest]}"/><ds:DigestValue>${value}</ds:DigestValue>`
  const docReference = `<ds:Reference URI="${uri}"><ds:Transforms>${transform(ENVELOPED)}${transform(c14nUri)}</ds:Transforms>${digestParts(docDigest)}</ds:Reference>`
  const spReference = (value: string): string => opts.form === 'xades-bes'
    ? `<ds:Reference Type="${SIGNED_PROPERTIES_TYPE}" URI="#${spId}"><ds:Transforms>${transform(c14nUri)}</ds:Transforms>${digestParts(value)}</ds:Reference>`
    : ''
  const signedInfo = (spDigest: string): string => '<ds:SignedInfo>' +
    `<ds:CanonicalizationMethod Algorithm="${c14nUri}"/>` +
    `<ds:SignatureMethod Algorithm="${signatureMethodUri(keyType, digest, opts.pss)}"/>` +
    docReference + spReference(spDigest) + '</ds:SignedInfo>'
  const certB64 = opts.certificate.raw.toString('base64')
  const object = opts.form === 'xades-bes' ? qualifyingProperties(sigId, spId, opts, digest) : ''
  const signature = (si: string, value: string): string =>
    `<ds:Signature xmlns:ds="${DSIG_NS}" Id="${sigId}">${si}<ds:SignatureValue>${value}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>${object}</ds:Signature>`

  let spDigest = ''
  if (opts.form === 'xades-bes') {
    // SignedProperties inherit the root's namespaces under inclusive C14N: digest them in place
    spDigest = withDocument(insertBeforeRootEnd(text, rootInfo.qname, signature(signedInfo(''), '')), (doc, ids) => {
      const hash = createHash(digest)
      canonicalizeSubtree(doc, ids.get(spId)!, { mode: c14n.mode, withComments: false }, hash)
      return hash.digest('base64')
    })
  }
  const finalSignedInfo = signedInfo(spDigest)
  const withPlaceholder = insertBeforeRootEnd(text, rootInfo.qname, signature(finalSignedInfo, ''))
  const signatureValue = withDocument(withPlaceholder, (doc, ids) => {
    const sigEl = ids.get(sigId)!
    const out = new OctetCollector()
    canonicalizeSubtree(doc, firstElementChild(sigEl), c14n, out)
    const alg = keyType === 'ec'
      ? { key: opts.key, dsaEncoding: 'ieee-p1363' as const }
      : opts.pss === true ? { key: opts.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_BYTES[digest] } : { key: opts.key }
    return signBytes(digest, out.bytes(), alg).toString('base64')
  })
  return Buffer.from(insertBeforeRootEnd(text, rootInfo.qname, signature(finalSignedInfo, signatureValue)), 'utf8')
}

const DIGEST_BYTES: Record<DigestName, number> = { sha256: 32, sha384: 48, sha512: 64 }

function rootId (root: NodePtr): string | null {
  return attribute(root, 'Id') ?? attribute(root, 'ID') ?? attribute(root, 'id')
}

function firstElementChild (el: NodePtr): NodePtr {
  for (let c = firstChild(el); c !== 0; c = nextSibling(c)) if (nodeType(c) === ELEMENT) return c
  throw new Error('element has no element child')
}

function withDocument<T> (text: string, fn: (doc: XmlDocument, ids: Map<string, NodePtr>) => T): T {
  const doc = XmlDocument.fromString(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  try {
    return fn(doc, scanDocument(documentPointer(doc)).ids)
  } finally {
    doc.dispose()
  }
}

/** Inserts `fragment` right before the end tag of the root element `qname`. */
function insertBeforeRootEnd (text: string, qname: string, fragment: string): string {
  const re = new RegExp(`</${qname.replace(/[.]/g, '\\.')}\\s*>`, 'g')
  let at = -1
  for (let m = re.exec(text); m !== null; m = re.exec(text)) at = m.index
  if (at < 0) throw new TypeError('the document root has no end tag to insert the signature before')
  return text.slice(0, at) + fragment + text.slice(at)
}

function qualifyingProperties (sigId: string, spId: string, opts: SignXmlOptions, digest: DigestName): string {
  const cert = opts.certificate
  const certDigest = createHash(digest).update(cert.raw).digest('base64')
  const issuer = cert.issuer.split('\n').reverse().join(',')
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10)
  const time = (opts.signingTime ?? new Date()).toISOString()
  return `<ds:Object><xades:QualifyingProperties xmlns:xades="${XADES_NS}" Target="#${sigId}">` +
    `<xades:SignedProperties Id="${spId}"><xades:SignedSignatureProperties>` +
    `<xades:SigningTime>${time}</xades:SigningTime>` +
    '<xades:SigningCertificate><xades:Cert><xades:CertDigest>' +
    `<ds:DigestMethod Algorithm="${DIGEST_URI[digest]}"/><ds:DigestValue>${certDigest}</ds:DigestValue></xades:CertDigest>` +
    `<xades:IssuerSerial><ds:X509IssuerName>${escapeText(issuer)}</ds:X509IssuerName><ds:X509SerialNumber>${serial}</ds:X509SerialNumber></xades:IssuerSerial>` +
    '</xades:Cert></xades:SigningCertificate></xades:SignedSignatureProperties></xades:SignedProperties>' +
    '</xades:QualifyingProperties></ds:Object>'
}

function escapeText (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
