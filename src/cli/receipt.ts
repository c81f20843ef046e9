import { readFileSync } from 'node:fs'
import { isHubError } from '../errors.js'
import type { Jwks } from '../crypto/jwk.js'
import { verifyReceipt, verifySeal, verifySignedReceipt } from '../crypto/receipt.js'
import { EXIT, UsageError, parse } from './args.js'

const HELP = `
Usage: egif receipt verify <receipt> --jwks <url|file>
       egif seal verify <seal> --jwks <url|file> [--body <file>]

receipt verify: checks a receipt the hub returned (the JSON document, or its compact JWS) against
the hub's published keys (GET /.well-known/jwks.json, or a saved copy). A JSON receipt must equal
exactly what the hub signed.
seal verify: checks an EGIF-Seal (the header value, or a file holding it); with --body, also that the
delivered bytes have the sealed digest.
<receipt> and <seal> may be a file or "-" for standard input.

Exit codes: 0 valid · 1 invalid · 2 usage · 3 the JWKS URL cannot be fetched · 4 a file cannot be read
`

async function loadJwks (where: string): Promise<Jwks> {
  if (/^https?:\/\//.test(where)) {
    const res = await fetch(where)
    if (!res.ok) throw new Error(`${where} answered ${res.status}`)
    return await res.json() as Jwks
  }
  return JSON.parse(readFileSync(where, 'utf8')) as Jwks
}

function readInput (arg: string): string {
  if (arg === '-') return readFileSync(0, 'utf8').trim()
  if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/.test(arg)) return arg
  return readFileSync(arg, 'utf8').trim()
}

export async function receiptOrSeal (kind: 'receipt' | 'seal', argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { jwks: { type: 'string' }, body: { type: 'string' }, json: { type: 'boolean' } }, HELP)
  const [action, input] = positionals
  if (action !== 'verify' || input === undefined) throw new UsageError(`usage: egif ${kind} verify <${kind}> --jwks <url|file>`)
  if (values.jwks === undefined) throw new UsageError('--jwks <url|file> is required')
  let jwks: Jwks
  try {
    jwks = await loadJwks(values.jwks as string)
  } catch (err) {
    process.stderr.write(`cannot load the JWKS: ${(err as Error).message}\n`)
    return /^https?:/.test(values.jwks as string) ? EXIT.UNAVAILABLE : EXIT.INPUT
  }
  let text: string
  let body: Buffer | undefined
  try {
    text = readInput(input)
    body = values.body !== undefined ? readFileSync(values.body as string) : undefined
  } catch (err) {
    process.stderr.write(`cannot read: ${(err as Error).message}\n`)
    return EXIT.INPUT
  }
  try {
    let fields: Record<string, unknown>
    if (kind === 'seal') fields = { ...verifySeal(text, jwks, { body }) }
    else fields = text.startsWith('{') ? verifySignedReceipt(JSON.parse(text) as object, jwks) : verifyReceipt(text, jwks)
    process.stdout.write(values.json === true
      ? JSON.stringify({ valid: true, ...fields }) + '\n'
      : `valid ${kind}: ${String(fields.messageId)} ${String(fields.status ?? '')} from ${String(fields.sender)} to ${String(fields.receiver)}, ${String(fields.digest)}\n`)
    return EXIT.OK
  } catch (err) {
    if (!isHubError(err)) throw err
    process.stdout.write(values.json === true ? JSON.stringify({ valid: false, code: err.code, detail: err.message }) + '\n' : `INVALID ${err.code}: ${err.message}\n`)
    return EXIT.REFUSED
  }
}
