import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { extname } from 'node:path'
import { isHubError } from '../errors.js'
import { parseXml } from '../xml/document.js'
import { scanXml } from '../xml/scan.js'
import { verifyXmlSignature } from '../crypto/xmldsig/index.js'
import { verifyDetached } from '../crypto/jws.js'
import type { ParticipantTrust } from '../crypto/trust.js'
import { EXIT, UsageError, parse } from './args.js'

const HELP = `
Usage: egif verify <file> --cert <cert.pem> [--cert <other.pem>…] [--signature <jws> | --signature-file <f>]

Verifies a signed document exactly as the hub does, against the certificates you name (never a key
the document carries). XML: the enveloped XML-DSig or XAdES-BES signature. JSON: the detached JWS
(EGIF-Signature) given with --signature or --signature-file.

Options:
  --cert <file>          a certificate the signer may use (repeatable, for rotation)
  --ca <file>            accept any certificate issued by this CA …
  --subject <dn>         … whose subject has these fields (e.g. "O=Revenue Department,C=TH")
  --at <time>            the time certificates must be valid at (ISO 8601); default now
  --form <form>          accepted XML forms: xmldsig, xades-bes or both (default both)
  --json                 machine-readable result

Exit codes: 0 valid · 1 invalid or unsigned · 2 usage · 4 a file cannot be read
`

export async function verify (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    cert: { type: 'string', multiple: true },
    ca: { type: 'string' },
    subject: { type: 'string' },
    at: { type: 'string' },
    form: { type: 'string' },
    signature: { type: 'string' },
    'signature-file': { type: 'string' },
    json: { type: 'boolean' }
  }, HELP)
  if (positionals.length !== 1) throw new UsageError('name one file to verify')
  const certs = (values.cert as string[] | undefined) ?? []
  if (certs.length === 0 && values.ca === undefined) throw new UsageError('--cert <cert.pem> (or --ca with --subject) is required')
  if ((values.ca === undefined) !== (values.subject === undefined)) throw new UsageError('--ca and --subject go together')
  const at = values.at !== undefined ? new Date(values.at as string) : new Date()
  if (Number.isNaN(at.getTime())) throw new UsageError('--at must be an ISO 8601 time')
  const form = (values.form as string | undefined) ?? 'both'
  if (!['both', 'xmldsig', 'xades-bes'].includes(form)) throw new UsageError('--form must be xmldsig, xades-bes or both')
  const file = positionals[0]
  let body: Buffer
  let trust: ParticipantTrust
  let jws: string | undefined
  try {
    body = readFileSync(file)
    trust = {
      certificates: certs.map((c) => new X509Certificate(readFileSync(c))),
      authorities: values.ca !== undefined
        ? [{
            ca: new X509Certificate(readFileSync(values.ca as string)),
            subject: Object.fromEntries((values.subject as string).split(',').map((p) => p.split('=').map((s) => s.trim()) as [string, string]))
          }]
        : []
    }
    jws = (values.signature as string | undefined) ?? (values['signature-file'] !== undefined ? readFileSync(values['signature-file'] as string, 'utf8').trim() : undefined)
  } catch (err) {
    process.stderr.write(`cannot read: ${(err as Error).message}\n`)
    return EXIT.INPUT
  }
  const report = (ok: boolean, fields: Record<string, unknown>): number => {
    if (values.json === true) process.stdout.write(JSON.stringify({ file, valid: ok, ...fields }) + '\n')
    else process.stdout.write(ok ? `${file}: valid ${String(fields.form)} signature by ${String(fields.subject).replace(/\n/g, ', ')} (${String(fields.trustPath)})\n` : `${file}: INVALID ${String(fields.code)}: ${String(fields.detail)}\n`)
    return ok ? EXIT.OK : EXIT.REFUSED
  }
  try {
    if (extname(file).toLowerCase() === '.json' || jws !== undefined) {
      if (jws === undefined) throw new UsageError('a JSON document is signed by a detached JWS: give it with --signature or --signature-file')
      const r = verifyDetached(jws, body, { trust, at })
      return report(true, { form: 'jws-detached', alg: r.alg, subject: r.certificate.subject, fingerprint256: r.certificate.fingerprint256, trustPath: r.certificate.trustPath })
    }
    scanXml(body)
    const doc = parseXml(body)
    try {
      const forms = form === 'both' ? ['xmldsig', 'xades-bes'] as const : [form as 'xmldsig' | 'xades-bes']
      const r = verifyXmlSignature(doc, { trust, at, forms: [...forms] })
      if (r === null) return report(false, { code: 'EGIF_ERR_SIGNATURE_REQUIRED', detail: 'the document is not signed' })
      return report(true, { form: r.form, algorithm: r.algorithm, subject: r.certificate.subject, fingerprint256: r.certificate.fingerprint256, trustPath: r.certificate.trustPath, signingTime: r.signingTime })
    } finally {
      doc.dispose()
    }
  } catch (err) {
    if (!isHubError(err)) throw err
    return report(false, { code: err.code, detail: err.message })
  }
}
