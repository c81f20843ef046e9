import { ParseOption, XmlDocument, XmlParseError, type ErrorDetail } from 'libxml2-wasm'
import { HubError } from '../errors.js'
import { assertUtf8 } from './utf8.js'

/**
 * libxml2 options for untrusted documents. Never RECOVER (a broken document is refused, not
 * repaired), never NOENT/DTDLOAD/DTDATTR/DTDVALID/XINCLUDE (no entity substitution, no DTD, no
 * inclusion). NO_XXE and NONET forbid loading anything even if a DTD slipped through.
 * BIG_LINES keeps line numbers right past 65,535. The declared encoding is honoured (not
 * IGNORE_ENC) so that the check below sees it and refuses anything but UTF-8.
 */
const UNTRUSTED = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE |
  ParseOption.XML_PARSE_BIG_LINES | ParseOption.XML_PARSE_NO_SYS_CATALOG

/** `line:col: message` for the first few libxml2 diagnostics. */
export function describeXmlErrors (details: ErrorDetail[], max = 3): string {
  const parts = details.slice(0, max).map((d) => `${d.line}:${d.col}: ${d.message.trim()}`)
  if (details.length > max) parts.push(`(${details.length - max} more)`)
  return parts.length > 0 ? parts.join('; ') : 'libxml2 could not parse the document'
}

/**
 * Parses a document with libxml2, strictly. Run {@link scanXml} first: this is the second of the
 * two parsers a document must satisfy. The caller owns the result and must `dispose()` it: the
 * tree lives in wasm memory, which the garbage collector does not see.
 *
 * @param opts.url Name used in libxml2's messages and as the document's base URI; nothing is
 * ever loaded from it.
 * @throws HubError EGIF_ERR_XML_MALFORMED (with line:col), EGIF_ERR_XML_DOCTYPE, EGIF_ERR_XML_ENCODING,
 * EGIF_ERR_ENCODING
 */
export function parseXml (bytes: Uint8Array, opts: { url?: string } = {}): XmlDocument {
  // libxml2 would detect and decode UTF-16 by its byte order mark; the hub accepts UTF-8 only.
  assertUtf8(bytes)
  let doc: XmlDocument
  try {
    doc = XmlDocument.fromBuffer(bytes, { url: opts.url, option: UNTRUSTED })
  } catch (err) {
    if (err instanceof XmlParseError) throw new HubError('EGIF_ERR_XML_MALFORMED', describeXmlErrors(err.details))
    throw err
  }
  // Belt and braces for callers that skipped the scanner: libxml2 accepts an internal DTD
  // subset even with these options (it only declines to load or substitute), so refuse it here.
  if (doc.dtd !== null) {
    doc.dispose()
    throw new HubError('EGIF_ERR_XML_DOCTYPE', 'the document has a DOCTYPE: DTDs and entity declarations are refused')
  }
  // The scanner refuses these first; a direct caller still must not get a document whose
  // stored bytes a receiver would decode differently.
  const enc = doc.encoding
  if (enc !== null && enc.toLowerCase() !== 'utf-8' && enc.toLowerCase() !== 'utf8') {
    doc.dispose()
    throw new HubError('EGIF_ERR_XML_ENCODING', `the XML declaration names the encoding "${enc}"; documents must be UTF-8`, { encoding: enc })
  }
  return doc
}
