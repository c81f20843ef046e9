import { EXIT, UsageError, connection, parse } from './args.js'

const HELP = `
Usage: egif dead-letters [list]
       egif dead-letters replay <SENDER/MESSAGE-ID>… | --all

For operators (an API key configured under operators). list shows the messages the hub gave up
delivering, with the reason; replay puts them back in the delivery queue (attempts start again) and
records a replayed event naming you.

Options:
  --all           replay every dead letter
  --hub <url>     hub base URL; default $EGIF_HUB_URL or http://127.0.0.1:8080
  --key <key>     operator API key; default $EGIF_API_KEY
  --json          machine-readable output

Exit codes: 0 done · 1 refused (not an operator, or some messages were not dead letters) · 2 usage · 3 hub unavailable
`

export async function deadLetters (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { all: { type: 'boolean' }, hub: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' } }, HELP)
  const [action = 'list', ...ids] = positionals
  if (action !== 'list' && action !== 'replay') throw new UsageError(`unknown action "${action}" (list, replay)`)
  if (action === 'replay' && ids.length === 0 && values.all !== true) throw new UsageError('name the messages to replay as SENDER/MESSAGE-ID, or give --all')
  if (ids.some((id) => !id.includes('/'))) throw new UsageError('name each message as SENDER/MESSAGE-ID')
  const { hub, key } = connection(values)
  let res: Response
  try {
    res = action === 'list'
      ? await fetch(`${hub}/v1/admin/dead-letters`, { headers: { authorization: `Bearer ${key}` } })
      : await fetch(`${hub}/v1/admin/dead-letters/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(values.all === true ? { all: true } : { messages: ids })
      })
  } catch (err) {
    process.stderr.write(`cannot reach ${hub} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})\n`)
    return EXIT.UNAVAILABLE
  }
  const data = await res.json().catch(() => ({})) as Record<string, unknown>
  if (!res.ok) {
    process.stderr.write(`refused ${res.status} ${String(data.code)}: ${String(data.detail)}\n`)
    return res.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REFUSED
  }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(data) + '\n')
  } else if (action === 'list') {
    const list = data.deadLetters as Array<Record<string, unknown>>
    if (list.length === 0) process.stdout.write('no dead letters\n')
    for (const d of list) process.stdout.write(`${String(d.message)}\tto ${String(d.receiver)}\t${String(d.attempts)} attempts\t${String(d.code)}: ${String(d.reason)}\n`)
  } else {
    const r = data as { replayed: string[], notFound: string[], notDead: string[] }
    process.stdout.write(`replayed ${r.replayed.length}${r.replayed.length > 0 ? `: ${r.replayed.join(', ')}` : ''}\n`)
    if (r.notFound.length > 0) process.stdout.write(`not found: ${r.notFound.join(', ')}\n`)
    if (r.notDead.length > 0) process.stdout.write(`not dead letters: ${r.notDead.join(', ')}\n`)
    if (r.notFound.length + r.notDead.length > 0) return EXIT.REFUSED
  }
  return EXIT.OK
}
