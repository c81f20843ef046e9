import { readFile } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import { randomUUID } from 'node:crypto'
import { EXIT, UsageError, connection, parse } from './args.js'

const HELP = `
Usage: egif send <file…> --to <participant> [--type <type>] [options]

Sends each file as one message. Prints one line per file and a summary; with several files,
progress goes to standard error.

Options:
  --to <id>          receiver participant id (EGIF-Receiver)              required
  --type <id>        document type (EGIF-Document-Type); XML may omit it
  --version <v>      document version, when the document does not carry one
  --as <id>          sender participant id (EGIF-Sender); default $EGIF_SENDER
  --id <id>          message id (one file only); default <file name>-<random>
  --conversation <id>, --in-reply-to <id>   correlation headers
  --signature <jws>  detached JWS for EGIF-Signature (one file only)
  --hub <url>        hub base URL; default $EGIF_HUB_URL or http://127.0.0.1:8080
  --key <key>        API key; default $EGIF_API_KEY
  --json             print the receipts as JSON lines

Exit codes: 0 all accepted · 1 some refused · 2 usage · 3 hub unavailable · 4 unreadable file
`

export async function send (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    to: { type: 'string' },
    type: { type: 'string' },
    version: { type: 'string' },
    as: { type: 'string' },
    id: { type: 'string' },
    conversation: { type: 'string' },
    'in-reply-to': { type: 'string' },
    signature: { type: 'string' },
    hub: { type: 'string' },
    key: { type: 'string' },
    json: { type: 'boolean' }
  }, HELP)
  if (positionals.length === 0) throw new UsageError('name at least one file to send')
  if (values.to === undefined) throw new UsageError('--to <participant> is required')
  const sender = (values.as as string | undefined) ?? process.env.EGIF_SENDER
  if (sender === undefined) throw new UsageError('--as <participant> (or EGIF_SENDER) is required')
  if (positionals.length > 1 && (values.id !== undefined || values.signature !== undefined)) throw new UsageError('--id and --signature apply to one file only')
  const { hub, key } = connection(values)

  let refused = 0
  let unavailable = 0
  let unreadable = 0
  const many = positionals.length > 1
  for (const [i, file] of positionals.entries()) {
    let body: Buffer
    try {
      body = await readFile(file)
    } catch (err) {
      unreadable++
      process.stderr.write(`${file}: cannot read (${(err as Error).message})\n`)
      continue
    }
    const ext = extname(file).toLowerCase()
    const contentType = ext === '.json' ? 'application/json' : 'application/xml'
    const messageId = (values.id as string | undefined) ?? `${basename(file, ext).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}-${randomUUID().slice(0, 8)}`
    const headers: Record<string, string> = {
      authorization: `Bearer ${key}`,
      'content-type': contentType,
      'egif-message-id': messageId,
      'egif-sender': sender,
      'egif-receiver': values.to as string
    }
    if (values.type !== undefined) headers['egif-document-type'] = values.type as string
    if (values.version !== undefined) headers['egif-document-version'] = values.version as string
    if (values.conversation !== undefined) headers['egif-conversation-id'] = values.conversation as string
    if (values['in-reply-to'] !== undefined) headers['egif-in-reply-to'] = values['in-reply-to'] as string
    if (values.signature !== undefined) headers['egif-signature'] = values.signature as string
    let res: Response
    try {
      res = await fetch(`${hub}/v1/messages`, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer> })
    } catch (err) {
      unavailable++
      process.stderr.write(`${file}: cannot reach ${hub} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})\n`)
      continue
    }
    const answer = await res.json().catch(() => ({})) as Record<string, unknown>
    if (res.status === 202 || res.status === 200) {
      if (values.json === true) process.stdout.write(JSON.stringify(answer) + '\n')
      else process.stdout.write(`${file}: ${res.status === 202 ? 'accepted' : 'already accepted'} as ${messageId} (${String(answer.documentType)} ${String(answer.documentVersion)}, ${String(answer.digest)})\n`)
    } else {
      if (res.status >= 500) unavailable++
      else refused++
      if (values.json === true) process.stdout.write(JSON.stringify(answer) + '\n')
      else process.stdout.write(`${file}: refused ${res.status} ${String(answer.code)}: ${String(answer.detail)}\n`)
    }
    if (many) process.stderr.write(`[${i + 1}/${positionals.length}] sent\n`)
  }
  if (many) process.stderr.write(`${positionals.length - refused - unavailable - unreadable} accepted, ${refused} refused, ${unavailable} failed, ${unreadable} unreadable\n`)
  if (unreadable > 0) return EXIT.INPUT
  if (unavailable > 0) return EXIT.UNAVAILABLE
  return refused > 0 ? EXIT.REFUSED : EXIT.OK
}
