import { writeFileSync } from 'node:fs'
import { EXIT, UsageError, connection, parse } from './args.js'

const HELP = `
Usage: egif inbox [list] | fetch <message-id> [--out <file>] | ack <message-id>   [options]

Reads the caller's mailbox (pull delivery).
  list              messages waiting, oldest first
  fetch <id>        the document's exact bytes (to --out, or standard output) and its routing headers
  ack <id>          acknowledge: the message leaves the mailbox and the sender gets a delivered receipt

Options:
  --sender <id>     the sender, when two senders used the same message id
  --out <file>      where fetch writes the document
  --hub <url>       hub base URL; default $EGIF_HUB_URL or http://127.0.0.1:8080
  --key <key>       API key; default $EGIF_API_KEY
  --json            machine-readable output

Exit codes: 0 done · 1 refused (not found, not a pull participant…) · 2 usage · 3 hub unavailable
`

export async function inbox (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    sender: { type: 'string' },
    out: { type: 'string' },
    hub: { type: 'string' },
    key: { type: 'string' },
    json: { type: 'boolean' }
  }, HELP)
  const [action = 'list', id] = positionals
  if (!['list', 'fetch', 'ack'].includes(action)) throw new UsageError(`unknown inbox action "${action}" (list, fetch, ack)`)
  if (action !== 'list' && id === undefined) throw new UsageError(`inbox ${action} needs a message id`)
  const { hub, key } = connection(values)
  const q = values.sender !== undefined ? `?sender=${encodeURIComponent(values.sender as string)}` : ''
  const url = action === 'list'
    ? `${hub}/v1/inbox`
    : `${hub}/v1/inbox/${encodeURIComponent(id!)}${action === 'ack' ? '/ack' : ''}${q}`
  let res: Response
  try {
    res = await fetch(url, { method: action === 'ack' ? 'POST' : 'GET', headers: { authorization: `Bearer ${key}` } })
  } catch (err) {
    process.stderr.write(`cannot reach ${hub} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})\n`)
    return EXIT.UNAVAILABLE
  }
  if (!res.ok) {
    const p = await res.json().catch(() => ({})) as Record<string, unknown>
    process.stderr.write(`refused ${res.status} ${String(p.code)}: ${String(p.detail)}\n`)
    return res.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REFUSED
  }
  if (action === 'fetch') {
    const body = Buffer.from(await res.arrayBuffer())
    const meta: Record<string, string> = {}
    res.headers.forEach((v, k) => { if (k.startsWith('egif-') || k === 'content-type') meta[k] = v })
    if (values.out !== undefined) {
      writeFileSync(values.out as string, body)
      process.stdout.write(values.json === true ? JSON.stringify(meta) + '\n' : `${id!}: ${body.length} bytes written to ${String(values.out)} (${meta['egif-document-type']} from ${meta['egif-sender']}, ${meta['egif-digest']})\n`)
    } else {
      process.stdout.write(body)
    }
    return EXIT.OK
  }
  const data = await res.json() as Record<string, unknown>
  if (values.json === true) {
    process.stdout.write(JSON.stringify(data) + '\n')
  } else if (action === 'list') {
    const list = data.messages as Array<Record<string, unknown>>
    if (list.length === 0) process.stdout.write('the mailbox is empty\n')
    for (const m of list) process.stdout.write(`${String(m.messageId)}\tfrom ${String(m.sender)}\t${String(m.documentType)} ${String(m.documentVersion)}\t${String(m.size)} bytes\t${String(m.receivedAt)}\n`)
  } else {
    process.stdout.write(`${id!}: acknowledged; delivered receipt signed at ${String(data.deliveredAt)}\n`)
  }
  return EXIT.OK
}
