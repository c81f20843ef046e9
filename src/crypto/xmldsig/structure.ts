import { HubError } from '../../errors.js'
import {
  C14N_METHODS, DIGESTS, DSIG_NS, ENVELOPED, MAX_TRANSFORMS, SIGNATURE_METHODS,
  type C14nMethod, type DigestName, type SignatureAlgorithm
} from './algorithms.js'
import {
  COMMENT, PI, TEXT, attribute, childElements, firstChild, isBlankText, isElement, localName, localNameIs, namespaceIs,
  nextSibling, nodeType, textContent, type NodePtr
} from './native.js'

const EXC_C14N_NS = 'http://www.w3.org/2001/10/xml-exc-c14n#'

/** A canonicalization step with its exclusive-C14N InclusiveNamespaces prefixes. */
export interface Canonicalization extends C14nMethod {
  uri: string
  prefixes?: string[]
}

export interface ParsedReference {
  element: NodePtr
  uri: string
  type: string | null
  enveloped: boolean
  /** The final canonicalization (C14N 1.0 when the reference names none, as XML-DSig says). */
  c14n: Canonicalization
  digest: DigestName
  digestValue: Buffer
}

export interface ParsedSignature {
  element: NodePtr
  id: string | null
  signedInfo: NodePtr
  c14n: Canonicalization
  methodUri: string
  method: SignatureAlgorithm
  references: ParsedReference[]
  signatureValue: Buffer
  /**
   * The text of every KeyInfo/X509Data/X509Certificate as written: base64, white space included
   * (base64 decoding skips it; the key cache looks certificates up by this text).
   */
  certificates: string[]
  /** KeyInfo/KeyValue, when present. */
  keyValue: NodePtr
  objects: NodePtr[]
}

const DEFAULT_C14N: Canonicalization = { uri: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315', ...C14N_METHODS.get('http://www.w3.org/TR/2001/REC-xml-c14n-20010315')! }

function malformed (detail: string): HubError {
  return new HubError('EGIF_ERR_SIGNATURE_MALFORMED', detail)
}

/**
 * Element children of a structural element. Comments and processing instructions inside SignedInfo
 * are refused (`strict`): nothing the signer signed should be invisible to a reader.
 */
function structuralChildren (el: NodePtr, strict: boolean): NodePtr[] {
  return childElements(el, (child, type) => {
    if (type === TEXT) {
      if (!isBlankText(child)) throw malformed(`text inside ${localName(el)}`)
    } else if (type === COMMENT || type === PI) {
      if (strict) throw new HubError('EGIF_ERR_SIGNATURE_HIDDEN_MARKUP', `comment or processing instruction inside ${localName(el)}`)
    } else {
      throw malformed(`unexpected node inside ${localName(el)}`)
    }
  })
}

/**
 * The text of a value element (DigestValue, SignatureValue, X509Certificate…). Only text is
 * allowed: a comment splitting a DigestValue is how a verifier that reads the first text node
 * and a canonicalizer that drops comments come to disagree.
 */
export function valueText (el: NodePtr): string {
  let out = ''
  for (let c = firstChild(el); c !== 0; c = nextSibling(c)) {
    if (nodeType(c) !== TEXT) throw new HubError('EGIF_ERR_SIGNATURE_HIDDEN_MARKUP', `only text may appear inside ${localName(el)}`)
    out += textContent(c)
  }
  return out
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/

export function base64Value (el: NodePtr): Buffer {
  const text = valueText(el)
  if (!BASE64.test(text)) throw malformed(`${localName(el)} is not base64`)
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length === 0) throw malformed(`${localName(el)} is empty`)
  return bytes
}

function expect (el: NodePtr | undefined, name: string, parent: string): NodePtr {
  if (el === undefined || !isElement(el, DSIG_NS, name)) throw malformed(`${parent} must contain ${name} here`)
  return el
}

function algorithmOf (el: NodePtr): string {
  const uri = attribute(el, 'Algorithm')
  if (uri === null) throw malformed(`${localName(el)} has no Algorithm`)
  return uri
}

function canonicalization (el: NodePtr, uri: string, code: 'EGIF_ERR_SIGNATURE_ALGORITHM' | 'EGIF_ERR_SIGNATURE_TRANSFORM'): Canonicalization {
  const method = C14N_METHODS.get(uri)
  if (method === undefined) throw new HubError(code, `canonicalization ${uri} is not allowed`)
  const out: Canonicalization = { uri, ...method }
  for (const child of structuralChildren(el, true)) {
    if (uri.startsWith(EXC_C14N_NS) && localNameIs(child, 'InclusiveNamespaces') && namespaceIs(child, EXC_C14N_NS) && out.prefixes === undefined) {
      const list = attribute(child, 'PrefixList') ?? ''
      out.prefixes = list.split(/\s+/).filter((p) => p !== '').map((p) => p === '#default' ? '' : p)
    } else {
      throw new HubError(code, `${localName(child)} is not allowed inside ${localName(el)}`)
    }
  }
  return out
}

function parseTransforms (el: NodePtr): { enveloped: boolean, c14n: Canonicalization | null } {
  const transforms = structuralChildren(el, true)
  if (transforms.length > MAX_TRANSFORMS) throw new HubError('EGIF_ERR_SIGNATURE_TRANSFORM', `${transforms.length} transforms; at most ${MAX_TRANSFORMS} are allowed`)
  let enveloped = false
  let c14n: Canonicalization | null = null
  for (const t of transforms) {
    expect(t, 'Transform', 'Transforms')
    const uri = algorithmOf(t)
    if (uri === ENVELOPED) {
      // enveloped works on a node-set: after a canonicalization there is none left
      if (enveloped || c14n !== null) throw new HubError('EGIF_ERR_SIGNATURE_TRANSFORM', 'the enveloped-signature transform must come once, before canonicalization')
      if (structuralChildren(t, true).length > 0) throw new HubError('EGIF_ERR_SIGNATURE_TRANSFORM', 'the enveloped-signature transform takes no parameters')
      enveloped = true
    } else {
      if (!C14N_METHODS.has(uri)) throw new HubError('EGIF_ERR_SIGNATURE_TRANSFORM', `transform ${uri} is not allowed`)
      if (c14n !== null) throw new HubError('EGIF_ERR_SIGNATURE_TRANSFORM', 'only one canonicalization transform is allowed')
      c14n = canonicalization(t, uri, 'EGIF_ERR_SIGNATURE_TRANSFORM')
    }
  }
  return { enveloped, c14n }
}

function parseReference (el: NodePtr): ParsedReference {
  const uri = attribute(el, 'URI')
  if (uri === null) throw new HubError('EGIF_ERR_SIGNATURE_REFERENCE', 'a Reference without URI points at whatever the verifier guesses')
  const children = structuralChildren(el, true)
  let i = 0
  let transforms: { enveloped: boolean, c14n: Canonicalization | null } = { enveloped: false, c14n: null }
  if (children[i] !== undefined && isElement(children[i], DSIG_NS, 'Transforms')) transforms = parseTransforms(children[i++])
  const digestMethod = expect(children[i++], 'DigestMethod', 'Reference')
  const digestUri = algorithmOf(digestMethod)
  const digest = DIGESTS.get(digestUri)
  if (digest === undefined) throw new HubError('EGIF_ERR_SIGNATURE_ALGORITHM', `digest ${digestUri} is not allowed`)
  const digestValue = base64Value(expect(children[i++], 'DigestValue', 'Reference'))
  if (i !== children.length) throw malformed('Reference has extra elements')
  return {
    element: el,
    uri,
    type: attribute(el, 'Type'),
    enveloped: transforms.enveloped,
    // references are bare-name or whole-document: comments are never part of their node-set
    c14n: { ...(transforms.c14n ?? DEFAULT_C14N), withComments: false },
    digest,
    digestValue
  }
}

function parseKeyInfo (el: NodePtr, sig: ParsedSignature): void {
  for (const child of structuralChildren(el, false)) {
    if (!namespaceIs(child, DSIG_NS)) continue
    if (localNameIs(child, 'X509Data')) {
      for (const item of structuralChildren(child, false)) {
        if (isElement(item, DSIG_NS, 'X509Certificate')) sig.certificates.push(valueText(item))
      }
    } else if (localNameIs(child, 'KeyValue')) {
      if (sig.keyValue !== 0) throw malformed('KeyInfo has two KeyValue elements')
      sig.keyValue = child
    } else if (localNameIs(child, 'RetrievalMethod')) {
      throw new HubError('EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT', 'RetrievalMethod would fetch a key from elsewhere; the hub uses registered certificates only')
    }
  }
}

/** Parses a ds:Signature element, refusing anything outside the accepted profile's structure. */
export function parseSignature (el: NodePtr): ParsedSignature {
  const children = structuralChildren(el, false)
  const signedInfo = expect(children[0], 'SignedInfo', 'Signature')
  const siChildren = structuralChildren(signedInfo, true)
  const c14nEl = expect(siChildren[0], 'CanonicalizationMethod', 'SignedInfo')
  const c14n = canonicalization(c14nEl, algorithmOf(c14nEl), 'EGIF_ERR_SIGNATURE_ALGORITHM')
  const methodEl = expect(siChildren[1], 'SignatureMethod', 'SignedInfo')
  const methodUri = algorithmOf(methodEl)
  const method = SIGNATURE_METHODS.get(methodUri)
  if (method === undefined) throw new HubError('EGIF_ERR_SIGNATURE_ALGORITHM', `signature method ${methodUri} is not allowed`)
  if (structuralChildren(methodEl, true).length > 0) throw new HubError('EGIF_ERR_SIGNATURE_ALGORITHM', 'SignatureMethod takes no parameters here')
  const references: ParsedReference[] = []
  for (const r of siChildren.slice(2)) references.push(parseReference(expect(r, 'Reference', 'SignedInfo')))
  if (references.length === 0) throw malformed('SignedInfo has no Reference')
  const sig: ParsedSignature = {
    element: el,
    id: attribute(el, 'Id'),
    signedInfo,
    c14n,
    methodUri,
    method,
    references,
    signatureValue: base64Value(expect(children[1], 'SignatureValue', 'Signature')),
    certificates: [],
    keyValue: 0,
    objects: []
  }
  let i = 2
  if (children[i] !== undefined && isElement(children[i], DSIG_NS, 'KeyInfo')) parseKeyInfo(children[i++], sig)
  for (; i < children.length; i++) sig.objects.push(expect(children[i], 'Object', 'Signature'))
  return sig
}
