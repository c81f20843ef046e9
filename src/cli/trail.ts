import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { basename } from 'node:path'
import { once } from 'node:events'
import { EXIT, UsageError, connection, parse } from './args.js'
import { trustedKeysFrom, verifyCheckpoint } from '../trail/checkpoint.js'
import { fromHex, leafHash } from '../trail/hash.js'
import { verifyConsistency, verifyInclusion } from '../trail/merkle.js'
import { decodeRecord } from '../trail/record.js'
import { findLogDirs } from '../trail/files.js'
import { TrailIndex } from '../trail/trail-index.js'
import { bundleLines } from '../trail/bundle.js'
import { verifyTrails, type LogReport, type TrailSource } from '../trail/verify.js'

const HELP = `
Usage: egif trail verify <bundle | data dir>... --cert <hub cert> [options]
       egif trail export [--from <time>] [--to <time>] [--out <file>] [--hub <url> --key <key> | --data-dir <dir> [--log <name>]]
       egif trail prove <message-id> [--cert <hub cert>] [--receipt <file>] [--since <checkpoint file>] [--save <file>]

The hub's tamper-evident audit trail (docs/audit.md).
  verify    check records, hash chain, Merkle roots, checkpoint signatures and completeness offline;
            names the first bad record. Several bundles or folders (one per hub process) are
            checked each on its own, and --history shows messages across them.
  export    a bundle (records, checkpoints, the hub's keys) for a period: from the hub's API
            (auditor key), or offline from a data directory
  prove     fetch the inclusion proofs of a message's records and check them against a signed
            checkpoint (and that the checkpoint extends one you saved earlier, with --since)

Options:
  --cert <file>       the hub's certificate, public key (PEM) or JWKS, obtained apart from the
                      trail; repeat for keys used before a rotation
  --tsa-cert <file>   trusted time-stamping authority certificate (PEM): every checkpoint must be
                      time-stamped by it
  --history           print every message's events across all given trails
  --message <id>      print this message's events across all given trails
  --progress          show progress (default when standard error is a terminal)
  --from, --to        ISO 8601 times, inclusive
  --out <file>        where export writes the bundle (default standard output)
  --data-dir <dir>    export offline from a data directory (up to its last checkpoint)
  --log <name>        which log of the data directory (default: the only one)
  --receipt <file>    a receipt (JSON): check that it names the accepted record of this message
  --since <file>      a checkpoint saved earlier (--save): the new one must extend it
  --save <file>       save the checkpoint the proofs were checked against
  --hub <url>         hub base URL; default $EGIF_HUB_URL or http://127.0.0.1:8080
  --key <key>         API key; default $EGIF_API_KEY
  --json              machine-readable output

Exit codes: 0 verified · 1 something does not verify (tampered, missing, untrusted) · 2 usage ·
3 hub unavailable · 4 a file cannot be read
`

export async function trail (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    cert: { type: 'string', multiple: true },
    'tsa-cert': { type: 'string', multiple: true },
    history: { type: 'boolean' },
    message: { type: 'string' },
    progress: { type: 'boolean' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string' },
    log: { type: 'string' },
    receipt: { type: 'string' },
    since: { type: 'string' },
    save: { type: 'string' },
    hub: { type: 'string' },
    key: { type: 'string' },
    json: { type: 'boolean' }
  }, HELP)
  const [action, ...rest] = positionals
  if (action === 'verify') return verify(rest, values)
  if (action === 'export') return await exportBundle(values)
  if (action === 'prove') return await prove(rest, values)
  throw new UsageError(`unknown trail action "${String(action)}" (verify, export, prove)`)
}

type Values = Record<string, string | boolean | string[] | undefined>

function readKeys (values: Values): ReturnType<typeof trustedKeysFrom> {
  const files = (values.cert as string[] | undefined) ?? []
  const keys = []
  for (const f of files) {
    if (!existsSync(f)) throw new UsageError(`--cert ${f}: no such file`)
    keys.push(...trustedKeysFrom(readFileSync(f, 'utf8')))
  }
  return keys
}

function verify (paths: string[], values: Values): number {
  if (paths.length === 0) throw new UsageError('name at least one bundle or data directory')
  const keys = readKeys(values)
  if (keys.length === 0) throw new UsageError('--cert <hub cert> is required: the trail is checked against keys you obtained apart from it')
  const tsaCerts = ((values['tsa-cert'] as string[] | undefined) ?? []).map((f) => new X509Certificate(readFileSync(f)))
  const sources: TrailSource[] = []
  for (const p of paths) {
    if (!existsSync(p)) {
      process.stderr.write(`${p}: no such file or directory\n`)
      return EXIT.INPUT
    }
    if (statSync(p).isDirectory()) {
      const dirs = findLogDirs(p)
      if (dirs.length === 0) {
        process.stderr.write(`${p}: no trail here (no records.jsonl in it, in trail/ or in its folders)\n`)
        return EXIT.INPUT
      }
      for (const dir of dirs) sources.push({ kind: 'dir', dir })
    } else {
      sources.push({ kind: 'bundle', file: p })
    }
  }
  const showProgress = values.progress === true || (process.stderr.isTTY && values.json !== true)
  let last = 0
  const started = Date.now()
  let total = 0
  const { reports, history } = verifyTrails(sources, {
    keys,
    tsaCerts,
    history: values.history === true || values.message !== undefined,
    onProgress: showProgress
      ? (p) => {
          const now = Date.now()
          if (now - last < 250) return
          last = now
          process.stderr.write(`  ${p.log}: ${p.records.toLocaleString('en')} records, ${Math.round(100 * p.bytes / Math.max(1, p.total))}%\n`)
        }
      : undefined
  })
  for (const r of reports) total += r.end - r.start
  const seconds = (Date.now() - started) / 1000
  if (values.json === true) {
    const h = values.message !== undefined ? { [values.message as string]: history.get(values.message as string) ?? [] } : values.history === true ? Object.fromEntries(history) : undefined
    process.stdout.write(JSON.stringify({ ok: reports.every((r) => r.ok), reports, ...(h !== undefined ? { history: h } : {}) }, null, 2) + '\n')
  } else {
    for (const r of reports) process.stdout.write(describe(r))
    process.stdout.write(`${total.toLocaleString('en')} records in ${seconds.toFixed(2)} s (${Math.round(total / Math.max(seconds, 0.001)).toLocaleString('en')} records/s)\n`)
    const ids = values.message !== undefined ? [values.message as string] : values.history === true ? [...history.keys()].sort() : []
    for (const id of ids) {
      process.stdout.write(`\n${id}\n`)
      for (const e of history.get(id) ?? []) {
        process.stdout.write(`  ${e.at}  ${e.type.padEnd(14)} ${e.log}:${e.i}${e.attempt !== undefined ? ` attempt ${e.attempt}` : ''}${e.code !== undefined ? ` ${e.code}` : ''}${e.by !== undefined ? ` by ${e.by}` : ''}\n`)
      }
    }
  }
  return reports.every((r) => r.ok) ? EXIT.OK : EXIT.REFUSED
}

function describe (r: LogReport): string {
  const lines = [`${r.ok ? 'OK ' : 'BAD'} ${r.log} (${r.source}): records ${r.start}..${r.end - 1}, ${r.checkpoints} valid checkpoints, covered up to ${r.covered}${r.timestamped > 0 ? `, ${r.timestamped} time-stamped` : ''}`]
  if (r.firstBad !== undefined) lines.push(`  first bad record: ${r.log}:${r.firstBad.index} — ${r.firstBad.reason}`)
  for (const p of r.problems.slice(0, 20)) lines.push(`  problem: ${p.message}`)
  if (r.problems.length > 20) lines.push(`  … and ${r.problems.length - 20} more problems`)
  for (const w of r.warnings) lines.push(`  warning: ${w}`)
  return lines.join('\n') + '\n'
}

async function exportBundle (values: Values): Promise<number> {
  const from = values.from as string | undefined
  const to = values.to as string | undefined
  for (const [k, v] of [['--from', from], ['--to', to]]) if (v !== undefined && Number.isNaN(Date.parse(v))) throw new UsageError(`${String(k)} must be an ISO 8601 time`)
  const iso = (v?: string): string | undefined => v === undefined ? undefined : new Date(v).toISOString()
  const out = values.out !== undefined ? createWriteStream(values.out as string) : process.stdout
  if (values['data-dir'] !== undefined) {
    const dirs = findLogDirs(values['data-dir'] as string).filter((d) => values.log === undefined || basename(d) === values.log)
    if (dirs.length !== 1) throw new UsageError(dirs.length === 0 ? 'no such trail in the data directory' : `several logs (${dirs.map((d) => basename(d)).join(', ')}): choose one with --log`)
    const ix = TrailIndex.load(dirs[0], basename(dirs[0]))
    for (const line of bundleLines(ix, { keys: [] }, { from: iso(from), to: iso(to) }, new Date())) {
      if (!out.write(line)) await once(out, 'drain')
    }
    ix.close()
  } else {
    const { hub, key } = connection(values)
    const q = new URLSearchParams()
    if (from !== undefined) q.set('from', iso(from)!)
    if (to !== undefined) q.set('to', iso(to)!)
    let res: Response
    try {
      res = await fetch(`${hub}/v1/audit/export?${q.toString()}`, { headers: { authorization: `Bearer ${key}` } })
    } catch (err) {
      process.stderr.write(`cannot reach ${hub} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})\n`)
      return EXIT.UNAVAILABLE
    }
    if (!res.ok) return await refused(res)
    let bytes = 0
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length
      if (!out.write(chunk)) await once(out, 'drain')
      if (values.out !== undefined && process.stderr.isTTY) process.stderr.write(`\r  ${bytes.toLocaleString('en')} bytes`)
    }
  }
  if (values.out !== undefined) {
    (out as ReturnType<typeof createWriteStream>).end()
    await once(out, 'finish')
    process.stderr.write(`bundle written to ${String(values.out)}; check it with: egif trail verify ${String(values.out)} --cert <hub cert>\n`)
  }
  return EXIT.OK
}

async function refused (res: Response): Promise<number> {
  const p = await res.json().catch(() => ({})) as Record<string, unknown>
  process.stderr.write(`refused ${res.status} ${String(p.code)}: ${String(p.detail ?? p.title)}\n`)
  return res.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REFUSED
}

async function prove (args: string[], values: Values): Promise<number> {
  const [messageId] = args
  if (messageId === undefined) throw new UsageError('trail prove needs a message id')
  const { hub, key } = connection(values)
  const get = async (path: string): Promise<Response> => await fetch(`${hub}${path}`, { headers: { authorization: `Bearer ${key}` } })
  // The trail the receipt names: in cluster mode the process that answers asks the one keeping it.
  const receipt = values.receipt !== undefined ? JSON.parse(readFileSync(values.receipt as string, 'utf8')) as { messageId: string, digest: string, trail?: { log: string, index: number } } : undefined
  const ofLog = receipt?.trail?.log !== undefined ? `?log=${encodeURIComponent(receipt.trail.log)}` : ''
  let res: Response
  try {
    res = await get(`/v1/trail/proof/${encodeURIComponent(messageId)}${ofLog}`)
  } catch (err) {
    process.stderr.write(`cannot reach ${hub} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message})\n`)
    return EXIT.UNAVAILABLE
  }
  if (!res.ok) return await refused(res)
  const proof = await res.json() as { log: string, checkpoint: string, size: number, records: Array<{ index: number, record: string, proof: string[] }> }
  let keys = readKeys(values)
  if (keys.length === 0) {
    // Without --cert the hub's own published keys are used: this shows the proofs are consistent,
    // not that the hub is the one you think. Say so.
    process.stderr.write('warning: no --cert given; checking against the keys the hub publishes (/.well-known/jwks.json)\n')
    keys = trustedKeysFrom(await (await get('/.well-known/jwks.json')).text())
  }
  const fail = (msg: string): number => {
    process.stdout.write(values.json === true ? JSON.stringify({ ok: false, problem: msg }) + '\n' : `NOT PROVEN: ${msg}\n`)
    return EXIT.REFUSED
  }
  let cp
  try {
    cp = verifyCheckpoint(proof.checkpoint, keys)
  } catch (err) {
    return fail(`the checkpoint is not signed by a trusted hub key: ${(err as Error).message}`)
  }
  const root = fromHex(cp.root, 'root')
  const records = []
  for (const r of proof.records) {
    const ok = verifyInclusion(leafHash(Buffer.from(r.record, 'utf8')), r.index, cp.size, r.proof.map((h) => fromHex(h, 'a proof hash')), root)
    if (!ok) return fail(`record ${proof.log}:${r.index} is not included in the checkpoint of size ${cp.size}`)
    records.push(decodeRecord(Buffer.from(r.record, 'utf8')))
  }
  if (receipt !== undefined) {
    const named = records.find((r) => r.i === receipt.trail?.index)
    if (receipt.trail?.log !== proof.log || named === undefined) return fail(`the receipt names ${receipt.trail?.log}:${receipt.trail?.index}, which is not among the proven records of trail ${proof.log}`)
    if (named.type !== 'accepted' || named.messageId !== receipt.messageId || named.digest !== receipt.digest) return fail('the record the receipt names is not the acceptance of this message with this digest')
  }
  if (values.since !== undefined) {
    const earlier = verifyCheckpoint((JSON.parse(readFileSync(values.since as string, 'utf8')) as { checkpoint: string }).checkpoint, keys)
    if (earlier.log !== cp.log) return fail(`the saved checkpoint is of log ${earlier.log}, not ${cp.log}`)
    const c = await (await get(`/v1/trail/consistency?from=${earlier.size}&to=${cp.size}&log=${encodeURIComponent(cp.log)}`)).json() as { proof?: string[] }
    if (!verifyConsistency(earlier.size, cp.size, (c.proof ?? []).map((h) => fromHex(h, 'a proof hash')), fromHex(earlier.root, 'root'), root)) {
      return fail(`the checkpoint of size ${cp.size} does not extend the saved one of size ${earlier.size}: the hub rewrote its trail`)
    }
  }
  if (values.save !== undefined) writeFileSync(values.save as string, JSON.stringify({ checkpoint: proof.checkpoint }) + '\n')
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ ok: true, log: cp.log, size: cp.size, root: cp.root, time: cp.time, records }) + '\n')
  } else {
    process.stdout.write(`PROVEN: ${records.length} records of ${messageId} are in trail ${cp.log}, covered by the checkpoint of size ${cp.size} signed at ${cp.time}\n`)
    for (const r of records) process.stdout.write(`  ${proof.log}:${r.i}  ${r.at}  ${r.type}${r.digest !== undefined && r.type === 'accepted' ? ` ${r.digest}` : ''}\n`)
    if (receipt !== undefined) process.stdout.write('  the receipt names the accepted record\n')
    if (values.since !== undefined) process.stdout.write('  the checkpoint extends the one saved earlier\n')
  }
  return EXIT.OK
}
