import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { newKeyAndCsr, newKeyAndSelfSigned, type CertificateSubject } from '../crypto/certificates.js'
import { HUB_ALGORITHMS, type HubAlgorithm } from '../crypto/hub-key.js'
import { hashApiKey } from '../registry/participants.js'
import { EXIT, UsageError, parse } from './args.js'

const HELP = `
Usage: egif keys new --subject "CN=…,O=…,C=TH" [--alg ES256] [--days 730] [--csr] [--out <prefix>]
       egif keys api-key            a new random API key and the hash to configure
       egif keys hash [<api key>]   the hash of an API key (from standard input when omitted;
                                    a key that starts with "-": egif keys hash -- <api key>)

keys new writes <prefix>.key (the private key, PKCS#8 PEM, mode 0600) and either <prefix>.pem (a
self-signed certificate) or, with --csr, <prefix>.csr (a request to send to your CA). It never
overwrites a file.

Options:
  --alg <alg>        ${HUB_ALGORITHMS.join(', ')}; default ES256 (RSA keys are 2048 bits, --rsa-bits 3072 for more)
  --subject <dn>     CN, O, optional OU, and C=TH; Thai text is fine
  --days <n>         validity of the self-signed certificate; default 730
  --out <prefix>     default ./egif
  --force            overwrite existing files

Exit codes: 0 done · 2 usage · 4 a file exists or cannot be written
`

function parseSubject (dn: string): CertificateSubject {
  const fields: Record<string, string> = {}
  for (const part of dn.split(/,(?=\s*[A-Za-z]+=)/)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new UsageError(`--subject: "${part}" is not NAME=value`)
    fields[part.slice(0, eq).trim().toUpperCase()] = part.slice(eq + 1).trim()
  }
  if (fields.CN === undefined || fields.O === undefined) throw new UsageError('--subject needs at least CN and O')
  if ((fields.C ?? 'TH') !== 'TH') throw new UsageError('--subject: C must be TH')
  return { CN: fields.CN, O: fields.O, ...(fields.OU !== undefined ? { OU: fields.OU } : {}), C: 'TH' }
}

export async function keys (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    alg: { type: 'string' },
    subject: { type: 'string' },
    days: { type: 'string' },
    csr: { type: 'boolean' },
    out: { type: 'string' },
    force: { type: 'boolean' },
    'rsa-bits': { type: 'string' }
  }, HELP)
  const [action, arg] = positionals
  if (action === 'hash') {
    const key = arg ?? readFileSync(0, 'utf8').trim()
    if (key === '') throw new UsageError('give the API key as an argument or on standard input')
    process.stdout.write(hashApiKey(key) + '\n')
    return EXIT.OK
  }
  if (action === 'api-key') {
    // 256 random bits. The prefix names what it is (to a reader, to a secret scanner) and keeps a
    // key from starting with "-", which a command line would take for an option (base64url has it).
    const key = `egif_${randomBytes(32).toString('base64url')}`
    process.stdout.write(`api key (give it to the agency, store it nowhere else): ${key}\nconfigure:                                          ${hashApiKey(key)}\n`)
    return EXIT.OK
  }
  if (action !== 'new') throw new UsageError(`unknown keys action "${action ?? ''}" (new, api-key, hash)`)
  const alg = (values.alg as string | undefined ?? 'ES256') as HubAlgorithm
  if (!HUB_ALGORITHMS.includes(alg)) throw new UsageError(`--alg must be one of ${HUB_ALGORITHMS.join(', ')}`)
  if (values.subject === undefined) throw new UsageError('--subject "CN=…,O=…,C=TH" is required')
  const subject = parseSubject(values.subject as string)
  const days = Number(values.days ?? 730)
  if (!Number.isInteger(days) || days < 1) throw new UsageError('--days must be a positive whole number')
  const rsaBits = Number(values['rsa-bits'] ?? 2048)
  if (rsaBits !== 2048 && rsaBits !== 3072) throw new UsageError('--rsa-bits must be 2048 or 3072')
  const prefix = (values.out as string | undefined) ?? './egif'
  const keyFile = `${prefix}.key`
  const otherFile = values.csr === true ? `${prefix}.csr` : `${prefix}.pem`
  for (const f of [keyFile, otherFile]) {
    if (existsSync(f) && values.force !== true) {
      process.stderr.write(`${f} exists; choose another --out or add --force\n`)
      return EXIT.INPUT
    }
  }
  try {
    if (values.csr === true) {
      const r = newKeyAndCsr({ alg, subject, rsaBits })
      writeFileSync(keyFile, r.keyPem, { mode: 0o600 })
      writeFileSync(otherFile, r.csrPem)
    } else {
      const r = newKeyAndSelfSigned({ alg, subject, days, rsaBits })
      writeFileSync(keyFile, r.keyPem, { mode: 0o600 })
      writeFileSync(otherFile, r.certPem)
    }
  } catch (err) {
    process.stderr.write(`cannot write the key: ${(err as Error).message}\n`)
    return EXIT.INPUT
  }
  process.stdout.write(`${keyFile}: private key (${alg}); ${otherFile}: ${values.csr === true ? 'certificate request for your CA' : `self-signed certificate, ${days} days`}\n`)
  return EXIT.OK
}
