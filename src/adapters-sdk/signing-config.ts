import { DocumentSigner, type DocumentSignerOptions } from './signing.js'

/**
 * JSON Schema of an inbound adapter's optional `signing` section: the agency's key and certificate,
 * used to sign what its legacy system produces before it enters the hub. Paths are read once, when
 * the adapter starts.
 */
export const signingConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    keyFile: { type: 'string' },
    certFile: { type: 'string' },
    pkcs12File: { type: 'string' },
    /** Name of the environment variable that holds the passphrase (never the passphrase itself). */
    passphraseEnv: { type: 'string' },
    xmlForm: { enum: ['xmldsig', 'xades-bes'] },
    c14n: { enum: ['c14n', 'exc-c14n'] },
    digest: { enum: ['sha256', 'sha384', 'sha512'] },
    reference: { enum: ['whole', 'id'] }
  }
} as const

export type SigningConfig = Omit<DocumentSignerOptions, 'passphrase'> & { passphraseEnv?: string }

/** A DocumentSigner from a `signing` section, or `undefined` when there is none. */
export function signerFromConfig (cfg: SigningConfig | undefined, env: NodeJS.ProcessEnv = process.env): DocumentSigner | undefined {
  if (cfg === undefined) return undefined
  const { passphraseEnv, ...opts } = cfg
  return DocumentSigner.fromFiles({ ...opts, passphrase: passphraseEnv !== undefined ? env[passphraseEnv] : undefined })
}
