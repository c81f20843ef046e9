import { HubError } from '../../errors.js'
import { DSIG_NS } from './algorithms.js'
import {
  CDATA, COMMENT, ELEMENT, PI, TEXT, attributeValue, firstAttribute, firstChild, isBlankText, localName, localNameIs,
  namespaceIs, nextSibling, nodeType, parentNode, type NodePtr
} from './native.js'

/** What one pass over the whole document finds that the signature profile cares about. */
export interface DocumentScan {
  signatures: NodePtr[]
  signedInfos: number
  /** Every Id-like attribute value (Id, ID, id in any namespace) and its element. */
  ids: Map<string, NodePtr>
}

/** True when a non-blank text node shares the parent with `n`, i.e. `n` sits inside a value. */
function splitsText (n: NodePtr): boolean {
  for (let c = firstChild(parentNode(n)); c !== 0; c = nextSibling(c)) {
    const t = nodeType(c)
    if ((t === TEXT || t === CDATA) && !isBlankText(c)) return true
  }
  return false
}

function isIdName (attr: NodePtr): boolean {
  return localNameIs(attr, 'Id') || localNameIs(attr, 'ID') || localNameIs(attr, 'id')
}

/**
 * Walks every node once. Refuses, wherever they are, duplicate Ids (a second element with the
 * signed Id is how most wrapping attacks make a verifier and the business reader look at different
 * elements) and processing instructions or comments inside text (`<Amount>100<?x?>0</Amount>`: the
 * signature covers one reading, a parser that stops at the first text node takes another). PIs and
 * comments between elements (ETDA samples carry `<?xml-model?>`) change no value and are accepted.
 */
export function scanDocument (docPtr: number): DocumentScan {
  const scan: DocumentScan = { signatures: [], signedInfos: 0, ids: new Map() }
  let n = firstChild(docPtr)
  while (n !== 0) {
    const t = nodeType(n)
    if (t === ELEMENT) {
      if (localNameIs(n, 'Signature')) {
        if (namespaceIs(n, DSIG_NS)) scan.signatures.push(n)
      } else if (localNameIs(n, 'SignedInfo')) {
        if (namespaceIs(n, DSIG_NS)) scan.signedInfos++
      }
      for (let a = firstAttribute(n); a !== 0; a = nextSibling(a)) {
        if (!isIdName(a)) continue
        const value = attributeValue(a)
        if (scan.ids.has(value)) throw new HubError('EGIF_ERR_SIGNATURE_DUPLICATE_ID', `two elements carry the Id "${value}"`)
        scan.ids.set(value, n)
      }
      const child = firstChild(n)
      if (child !== 0) { n = child; continue }
    } else if ((t === PI || t === COMMENT) && parentNode(n) !== docPtr && splitsText(n)) {
      if (t === PI) throw new HubError('EGIF_ERR_SIGNATURE_PROCESSING_INSTRUCTION', `processing instruction <?${localName(n)}?> inside the text of a signed element`)
      throw new HubError('EGIF_ERR_SIGNATURE_HIDDEN_MARKUP', 'a comment inside the text of a signed element')
    }
    while (n !== 0 && nextSibling(n) === 0) {
      n = parentNode(n)
      if (n === docPtr) n = 0
    }
    if (n !== 0) n = nextSibling(n)
  }
  return scan
}
