import { HubError } from '../errors.js'
import { loadHubKey, type HubKey } from '../crypto/hub-key.js'
import { signDetached } from '../crypto/jws.js'
import { signXml } from '../crypto/xmldsig/index.js'

/** Options of a DocumentSigner: the agency's key and certificate, and how to sign XML. */
export interface DocumentSignerOptions {
  /** PEM private key file (PKCS#8, PKCS#1 or SEC1), or `pkcs12File`. */
  keyFile?: string
  /** PEM certificate file of the key. Required for XML (it goes into KeyInfo and the XAdES properties). */
  certFile?: string
  /** A PKCS#12 file holding the key and its certificate. */
  pkcs12File?: string
  passphrase?: string
  /** How XML is signed. Default `xades-bes` (the ETDA e-Tax profile). */
  xmlForm?: 'xmldsig' | 'xades-bes'
  /** Default `c14n` (inclusive C14N 1.0). */
  c14n?: 'c14n' | 'exc-c14n'
  /** Default `sha256`; the e-Tax profile uses `sha512`. */
  digest?: 'sha256' | 'sha384' | 'sha512'
  /** Default `whole` (`URI=""`). */
  reference?: 'whole' | 'id'
}

export interface SignedDocument {
  /** The document to send: XML with the enveloped signature appended; JSON unchanged. */
  body: Buffer
  /** Headers to send with it: `EGIF-Signature` (a detached JWS) for JSON. */
  headers: Record<string, string>
}

/**
 * Signs standard documents on behalf of a legacy system that cannot sign. The adapter holds that
 * agency's key, so what leaves the adapter is signed like any other document: XML with an enveloped
 * XML-DSig or XAdES-BES signature, JSON with a detached JWS over the exact bytes. The key is parsed
 * once, when the signer is made.
 */
export class DocumentSigner {
  private constructor (private readonly key: HubKey, private readonly opts: DocumentSignerOptions) {}

  static fromFiles (opts: DocumentSignerOptions): DocumentSigner {
    const key = loadHubKey({ pemFile: opts.keyFile, certFile: opts.certFile, pkcs12File: opts.pkcs12File, passphrase: opts.passphrase })
    return new DocumentSigner(key, opts)
  }

  /** Signs `body` according to its media type. */
  sign (body: Uint8Array, contentType: string): SignedDocument {
    if (/json/i.test(contentType)) {
      return { body: Buffer.from(body), headers: { 'egif-signature': signDetached(this.key, body) } }
    }
    if (this.key.certificate === undefined) {
      throw new HubError('EGIF_ERR_KEY_SOURCE', 'signing XML needs the certificate of the key (certFile, or a PKCS#12 file that holds it)')
    }
    const signed = signXml(body, {
      key: this.key.privateKey,
      certificate: this.key.certificate,
      form: this.opts.xmlForm ?? 'xades-bes',
      c14n: this.opts.c14n ?? 'c14n',
      digest: this.opts.digest ?? 'sha256',
      reference: this.opts.reference ?? 'whole'
    })
    return { body: signed, headers: {} }
  }

  /** The SHA-256 fingerprint of the signing certificate, to register with the hub. */
  get fingerprint (): string | undefined {
    return this.key.certificate?.fingerprint256
  }
}
