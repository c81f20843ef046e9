import { readFileSync, writeFileSync } from 'node:fs'
import { extname } from 'node:path'
import { isHubError } from '../errors.js'
import { DocumentSigner } from '../adapters-sdk/signing.js'
import { EXIT, UsageError, parse } from './args.js'

const HELP = `
Usage: egif sign <file> --key <key.pem> --cert <cert.pem> [options]

Signs a document the way the hub verifies it. XML gets an enveloped signature appended as the
root's last child (every other byte unchanged): XAdES-BES by default, or plain XML-DSig. JSON is
left as it is and the detached JWS for the EGIF-Signature header is printed.

Options:
  --key <file>          private key, PEM (or --p12 <file> [--passphrase-env VAR])
  --cert <file>         its certificate, PEM (required for XML)
  --form <form>         xades-bes (default) or xmldsig
  --c14n <method>       c14n (inclusive 1.0, default) or exc-c14n
  --digest <alg>        sha256 (default), sha384, sha512 (ETDA e-Tax: sha512)
  --reference <ref>     whole (URI="", default) or id (URI="#<root Id>")
  --out <file>          where the signed XML or the JWS goes; default standard output

Exit codes: 0 signed · 2 usage · 4 a file or key cannot be read
`

export async function sign (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    key: { type: 'string' },
    cert: { type: 'string' },
    p12: { type: 'string' },
    'passphrase-env': { type: 'string' },
    form: { type: 'string' },
    c14n: { type: 'string' },
    digest: { type: 'string' },
    reference: { type: 'string' },
    out: { type: 'string' }
  }, HELP)
  if (positionals.length !== 1) throw new UsageError('name one file to sign')
  if (values.key === undefined && values.p12 === undefined) throw new UsageError('--key <key.pem> (or --p12 <file>) is required')
  const form = (values.form as string | undefined) ?? 'xades-bes'
  if (form !== 'xades-bes' && form !== 'xmldsig') throw new UsageError('--form must be xades-bes or xmldsig')
  const c14n = (values.c14n as string | undefined) ?? 'c14n'
  if (c14n !== 'c14n' && c14n !== 'exc-c14n') throw new UsageError('--c14n must be c14n or exc-c14n')
  const digest = (values.digest as string | undefined) ?? 'sha256'
  if (digest !== 'sha256' && digest !== 'sha384' && digest !== 'sha512') throw new UsageError('--digest must be sha256, sha384 or sha512')
  const reference = (values.reference as string | undefined) ?? 'whole'
  if (reference !== 'whole' && reference !== 'id') throw new UsageError('--reference must be whole or id')
  const file = positionals[0]
  let body: Buffer
  try {
    body = readFileSync(file)
  } catch (err) {
    process.stderr.write(`${file}: cannot read (${(err as Error).message})\n`)
    return EXIT.INPUT
  }
  const passEnv = values['passphrase-env'] as string | undefined
  try {
    const signer = DocumentSigner.fromFiles({
      keyFile: values.key as string | undefined,
      certFile: values.cert as string | undefined,
      pkcs12File: values.p12 as string | undefined,
      passphrase: passEnv !== undefined ? process.env[passEnv] : undefined,
      xmlForm: form,
      c14n,
      digest,
      reference
    })
    const json = extname(file).toLowerCase() === '.json'
    const signed = signer.sign(body, json ? 'application/json' : 'application/xml')
    const output = json ? Buffer.from(signed.headers['egif-signature'] + '\n') : signed.body
    if (values.out !== undefined) writeFileSync(values.out as string, output)
    else process.stdout.write(output)
    if (values.out !== undefined) process.stderr.write(`${file}: signed (${json ? 'detached JWS' : form}) → ${String(values.out)}\n`)
    return EXIT.OK
  } catch (err) {
    process.stderr.write(`${file}: ${isHubError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`)
    return isHubError(err) && err.code.startsWith('EGIF_ERR_KEY') ? EXIT.INPUT : EXIT.REFUSED
  }
}
