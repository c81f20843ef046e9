/**
 * The one catalogue of the hub's error codes. Every code here is documented in
 * `docs/errors.md` (a test fails when one is missing). Codes are stable: clients branch on them.
 *
 * `retry` says what a caller should do with the same request: `true` when the condition is
 * transient (storage unavailable, shutting down), `false` when the same bytes will fail again.
 */
export interface ErrorSpec {
  status: number
  title: string
  retry: boolean
}

export const ERRORS = {
  // --- HTTP / intake ---------------------------------------------------------------------------
  EGIF_ERR_AUTH_MISSING: { status: 401, title: 'No credentials: send Authorization: Bearer <api key> or a TLS client certificate', retry: false },
  EGIF_ERR_AUTH_INVALID: { status: 401, title: 'The API key or client certificate is not known', retry: false },
  EGIF_ERR_AUTH_FORBIDDEN: { status: 403, title: 'The caller may not use this resource', retry: false },
  EGIF_ERR_SENDER_MISMATCH: { status: 403, title: 'EGIF-Sender is not the authenticated participant', retry: false },
  EGIF_ERR_ROUTE_NOT_ALLOWED: { status: 403, title: 'No route allows this sender to send this document type to this receiver', retry: false },
  EGIF_ERR_HEADER_MISSING: { status: 400, title: 'A required routing header is missing', retry: false },
  EGIF_ERR_HEADER_INVALID: { status: 400, title: 'A routing header has an invalid value', retry: false },
  EGIF_ERR_RECEIVER_UNKNOWN: { status: 422, title: 'EGIF-Receiver is not a registered participant', retry: false },
  EGIF_ERR_BODY_EMPTY: { status: 400, title: 'The request has no body', retry: false },
  EGIF_ERR_BODY_TOO_LARGE: { status: 413, title: 'The document is larger than the configured limit', retry: false },
  EGIF_ERR_MEDIA_TYPE: { status: 415, title: 'Content-Type must be application/xml or application/json (UTF-8)', retry: false },
  EGIF_ERR_ENCODING: { status: 400, title: 'The document is not valid UTF-8', retry: false },
  EGIF_ERR_IDEMPOTENCY_CONFLICT: { status: 409, title: 'This message id was already used with different bytes', retry: false },
  EGIF_ERR_STORAGE_UNAVAILABLE: { status: 503, title: 'Durable storage is unavailable; nothing was accepted', retry: true },
  EGIF_ERR_SHUTTING_DOWN: { status: 503, title: 'The hub is shutting down; send again to another instance or later', retry: true },
  EGIF_ERR_MESSAGE_AMBIGUOUS: { status: 409, title: 'Several senders used this message id: name the sender with ?sender=', retry: false },
  EGIF_ERR_NOT_FOUND: { status: 404, title: 'No such resource', retry: false },
  EGIF_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'The resource does not answer this method', retry: false },
  EGIF_ERR_BAD_REQUEST: { status: 400, title: 'The request is not valid', retry: false },
  EGIF_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'The request\'s header section is larger than the hub accepts', retry: false },
  EGIF_ERR_REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive whole in time', retry: true },
  EGIF_ERR_INTERNAL: { status: 500, title: 'Internal error; the request may be retried', retry: true },

  // --- XML parsing (DESIGN §5) -----------------------------------------------------------------
  EGIF_ERR_XML_MALFORMED: { status: 400, title: 'The XML document is not well-formed', retry: false },
  EGIF_ERR_XML_DOCTYPE: { status: 400, title: 'DOCTYPE declarations are refused (no DTD, no entities)', retry: false },
  EGIF_ERR_XML_TOO_DEEP: { status: 400, title: 'The XML document nests deeper than the limit', retry: false },
  EGIF_ERR_XML_TOO_MANY_ATTRIBUTES: { status: 400, title: 'An XML element has more attributes than the limit', retry: false },
  EGIF_ERR_XML_TOO_MANY_NODES: { status: 400, title: 'The XML document has more elements than the limit', retry: false },
  EGIF_ERR_XML_MULTIPLE_ROOTS: { status: 400, title: 'The XML document has more than one root element', retry: false },
  EGIF_ERR_XML_CONTROL_CHAR: { status: 400, title: 'The XML document contains a control character that XML 1.0 forbids', retry: false },
  EGIF_ERR_XML_PROCESSING_INSTRUCTION: { status: 400, title: 'Processing instructions other than the XML declaration are refused', retry: false },
  EGIF_ERR_XML_ENCODING: { status: 400, title: 'The XML declaration names an encoding other than UTF-8', retry: false },

  // --- JSON parsing ----------------------------------------------------------------------------
  EGIF_ERR_JSON_MALFORMED: { status: 400, title: 'The JSON document is not valid JSON', retry: false },
  EGIF_ERR_JSON_TOO_DEEP: { status: 400, title: 'The JSON document nests deeper than the limit', retry: false },
  EGIF_ERR_JSON_DUPLICATE_KEY: { status: 400, title: 'The JSON document repeats a key in one object', retry: false },

  // --- Document types and validation ---------------------------------------------------------
  EGIF_ERR_TYPE_UNKNOWN: { status: 422, title: 'The document type is not registered', retry: false },
  EGIF_ERR_TYPE_MISMATCH: { status: 422, title: 'EGIF-Document-Type does not match the document', retry: false },
  EGIF_ERR_VERSION_UNSUPPORTED: { status: 422, title: 'This version of the document type is not registered', retry: false },
  EGIF_ERR_VERSION_MISMATCH: { status: 422, title: 'EGIF-Document-Version does not match the version the document carries', retry: false },
  EGIF_ERR_SCHEMA_INVALID: { status: 422, title: 'The document does not conform to its schema', retry: false },

  // --- Signatures ------------------------------------------------------------------------------
  EGIF_ERR_SIGNATURE_REQUIRED: { status: 422, title: 'This document type requires a signature and none was found', retry: false },
  EGIF_ERR_SIGNATURE_INVALID: { status: 422, title: 'The signature does not verify', retry: false },
  EGIF_ERR_SIGNATURE_UNTRUSTED_KEY: { status: 422, title: 'The signing key is not a certificate registered for the sender or issued to it by a bound CA', retry: false },
  EGIF_ERR_SIGNATURE_CERT_NOT_VALID: { status: 422, title: 'The signing certificate is not valid at the time of receipt', retry: false },
  EGIF_ERR_SIGNATURE_FORM_NOT_ALLOWED: { status: 422, title: 'This document type does not accept this form of signature', retry: false },
  // XML signatures (DESIGN §5; docs/signatures.md explains each refusal)
  EGIF_ERR_SIGNATURE_MALFORMED: { status: 422, title: 'The XML signature does not follow the XML-DSig structure (missing, misplaced or extra elements, bad base64)', retry: false },
  EGIF_ERR_SIGNATURE_MULTIPLE: { status: 422, title: 'The document carries more than one Signature or SignedInfo element', retry: false },
  EGIF_ERR_SIGNATURE_WRAPPING: { status: 422, title: 'The Signature is not a child of the document root, or a reference points at an element other than the root', retry: false },
  EGIF_ERR_SIGNATURE_ALGORITHM: { status: 422, title: 'The signature, digest or canonicalization algorithm is not allowed (SHA-1, HMAC, DSA and unlisted algorithms are refused)', retry: false },
  EGIF_ERR_SIGNATURE_TRANSFORM: { status: 422, title: 'A reference uses a transform outside the allowed list (enveloped, C14N 1.0/1.1, exclusive C14N), in a wrong order, or more than 5', retry: false },
  EGIF_ERR_SIGNATURE_REFERENCE: { status: 422, title: 'A reference is not URI="" or #id of the document root (or the XAdES SignedProperties), or there are too many', retry: false },
  EGIF_ERR_SIGNATURE_DUPLICATE_ID: { status: 422, title: 'Two elements of the document carry the same Id', retry: false },
  EGIF_ERR_SIGNATURE_DIGEST_MISMATCH: { status: 422, title: 'A reference digest does not match the signed content: the document was changed after signing', retry: false },
  EGIF_ERR_SIGNATURE_KEY_IN_DOCUMENT: { status: 422, title: 'The signature carries a KeyValue (or a key retrieval) that is not the registered key; keys in the document are never trusted', retry: false },
  EGIF_ERR_SIGNATURE_XADES: { status: 422, title: 'The XAdES-BES properties are missing, not signed, or name a signing certificate other than the one used', retry: false },
  EGIF_ERR_SIGNATURE_HIDDEN_MARKUP: { status: 422, title: 'A comment or processing instruction sits inside a signature value (DigestValue, SignatureValue, certificate) or splits signed text', retry: false },
  EGIF_ERR_SIGNATURE_PROCESSING_INSTRUCTION: { status: 422, title: 'A processing instruction splits the text of a signed element, where it changes what parsers read', retry: false },

  // --- JWS (detached sender signatures, receipts, seals) -------------------------------------
  EGIF_ERR_JWS_MALFORMED: { status: 422, title: 'The JWS is not a well-formed compact or detached JWS', retry: false },
  EGIF_ERR_JWS_ALGORITHM: { status: 422, title: 'The JWS algorithm is not allowed (none, HMAC and unlisted algorithms are refused) or does not fit the key', retry: false },
  EGIF_ERR_JWS_CRIT: { status: 422, title: 'The JWS header marks as critical an extension the hub does not understand', retry: false },
  EGIF_ERR_JWS_INVALID: { status: 422, title: 'The JWS signature does not verify over these bytes', retry: false },
  EGIF_ERR_JWS_UNTRUSTED_KEY: { status: 422, title: 'No trusted key fits the JWS: the certificate is not registered for the sender, or the kid is unknown', retry: false },
  EGIF_ERR_JWS_CERT_NOT_VALID: { status: 422, title: 'The certificate for the JWS is not valid at the time of receipt', retry: false },
  EGIF_ERR_JWS_TYPE: { status: 422, title: 'The JWS is not of the expected type (typ) or its payload lacks required members', retry: false },

  // --- Configuration ---------------------------------------------------------------------------
  EGIF_ERR_CONFIG_READ: { status: 500, title: 'The configuration file cannot be read or parsed', retry: false },
  EGIF_ERR_CONFIG_INVALID: { status: 500, title: 'The configuration does not match its schema', retry: false },
  EGIF_ERR_CONFIG_REFERENCE: { status: 500, title: 'The configuration refers to something that does not exist', retry: false },
  EGIF_ERR_REDIS_EVICTION: { status: 500, title: 'Redis may evict keys (maxmemory-policy is not noeviction); the hub refuses to run on it', retry: false },
  EGIF_ERR_REDIS_VERSION: { status: 500, title: 'Redis is older than 6.2, which the stream queue (cluster.queue stream) needs', retry: false },
  EGIF_ERR_SCHEMA_LOAD: { status: 500, title: 'A document-type schema cannot be loaded or compiled', retry: false },

  // --- Hub signing keys ------------------------------------------------------------------------
  EGIF_ERR_KEY_SOURCE: { status: 500, title: 'The hub key configuration names no key source, or more than one', retry: false },
  EGIF_ERR_KEY_READ: { status: 500, title: 'The hub key or certificate file cannot be read', retry: false },
  EGIF_ERR_KEY_FORMAT: { status: 500, title: 'The hub key is not a PEM private key (PKCS#8, PKCS#1, SEC1) or a PKCS#12 file with one private key', retry: false },
  EGIF_ERR_KEY_PASSPHRASE: { status: 500, title: 'The hub key is encrypted and the passphrase is missing or wrong', retry: false },
  EGIF_ERR_KEY_UNSUPPORTED: { status: 500, title: 'The hub key type or size is not supported (RSA 2048 bits or more, ECDSA P-256, Ed25519)', retry: false },
  EGIF_ERR_KEY_ALGORITHM: { status: 500, title: 'The configured algorithm does not fit the hub key', retry: false },
  EGIF_ERR_KEY_CERT_MISMATCH: { status: 500, title: 'The hub certificate does not belong to the hub key', retry: false },
  EGIF_ERR_KEY_DUPLICATE: { status: 500, title: 'The same hub key is configured twice (current and previous)', retry: false },

  // --- Audit trail -----------------------------------------------------------------------------
  EGIF_ERR_TRAIL_UNAVAILABLE: { status: 503, title: 'The audit trail cannot be written; nothing was accepted', retry: true },
  EGIF_ERR_TRAIL_CORRUPT: { status: 500, title: 'The audit trail on disk does not verify; the hub will not append to it', retry: false },
  EGIF_ERR_TRAIL_TSA: { status: 502, title: 'The time-stamping authority did not return a valid RFC 3161 token', retry: true },

  // --- Delivery and adapters -------------------------------------------------------------------
  EGIF_ERR_ADAPTER_UNKNOWN: { status: 500, title: 'The configuration names an adapter that is not installed', retry: false },
  EGIF_ERR_ADAPTER_CONFIG: { status: 500, title: 'An adapter configuration does not match the adapter\'s schema', retry: false },
  EGIF_ERR_ADAPTER_MAPPING: { status: 422, title: 'A legacy record or document does not fit the adapter\'s field mapping (a required field is missing or has the wrong type)', retry: false },
  EGIF_ERR_ADAPTER_PROTOCOL: { status: 502, title: 'The legacy system answered outside its protocol (not SOAP, no acknowledgement, an answer to another request); it will be retried', retry: true },
  EGIF_ERR_DELIVERY_TRANSIENT: { status: 502, title: 'Delivery failed for a reason that may pass; it will be retried', retry: true },
  EGIF_ERR_DELIVERY_PERMANENT: { status: 502, title: 'Delivery was refused by the recipient; the message is dead-lettered', retry: false },
  EGIF_ERR_DELIVERY_TIMEOUT: { status: 504, title: 'The recipient did not answer in time; it will be retried', retry: true },
  EGIF_ERR_INBOX_NOT_PULL: { status: 409, title: 'This participant receives by push, not from the mailbox', retry: false },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERRORS

/** An error the hub reports to a caller with a stable code (RFC 9457 problem details). */
export class HubError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly retry: boolean
  /** Extra, machine-readable members of the problem document (never secrets, never bodies). */
  readonly extra: Record<string, unknown>

  constructor (code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}) {
    const spec: ErrorSpec = ERRORS[code]
    super(detail ?? spec.title)
    this.name = 'HubError'
    this.code = code
    this.status = spec.status
    this.retry = spec.retry
    this.extra = extra
  }
}

export function isHubError (err: unknown): err is HubError {
  return err instanceof HubError
}
