import { mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { sleep, signerFromConfig, submitDocument, submitFailure, type InboundContext } from '../../src/adapters-sdk/index.js'
import type { FileDropConfig } from './config.js'
import { csvRecords, fixedWidthRecords, type FileRecord } from './records.js'
import { moveInto, syncDir, writeAtomic } from './write.js'
import { recordToStandard } from './standard.js'

const PROCESSING = '.processing'

/** Records of one file, by the configured format. */
export function readRecords (name: string, bytes: Buffer, config: FileDropConfig): FileRecord[] {
  const file = basename(name, extname(name))
  if (config.format === 'xml') return [{ file, record: 1, line: 1, text: bytes.toString('utf8') }]
  const text = new TextDecoder(config.encoding, { fatal: true }).decode(bytes)
  if (config.format === 'csv') return csvRecords(file, text, { delimiter: config.csv.delimiter, columns: config.csv.columns })
  return fixedWidthRecords(file, text, config.fixedWidth?.fields ?? [])
}

type Outcome = { done: true, failures: string[], accepted: number } | { done: false }

/** Submits every record of a claimed file. Stops at a transient refusal: the file is tried again. */
async function handleFile (ctx: InboundContext<FileDropConfig>, name: string, submit: typeof submitDocument): Promise<Outcome> {
  const cfg = ctx.config
  const path = join(cfg.dir, PROCESSING, name)
  let records: FileRecord[]
  try {
    records = readRecords(name, readFileSync(path), cfg)
  } catch (err) {
    return { done: true, failures: [`the file cannot be read as ${cfg.format}: ${(err as Error).message}`], accepted: 0 }
  }
  const failures: string[] = []
  let accepted = 0
  for (const rec of records) {
    if (ctx.signal.aborted) return { done: false }
    const where = records.length > 1 || rec.fields !== undefined ? `record ${rec.record} (line ${rec.line})` : 'the file'
    let doc
    try {
      doc = recordToStandard(rec, cfg)
    } catch (err) {
      failures.push(`${where}: ${(err as { code?: string }).code ?? 'EGIF_ERR_ADAPTER_MAPPING'} ${(err as Error).message}`)
      continue
    }
    try {
      const r = await submit(ctx, doc)
      accepted++
      ctx.log.info({ file: name, record: rec.record, messageId: doc.routing.messageId, status: r.status }, 'submitted')
    } catch (err) {
      const f = submitFailure(err)
      if (f.retry) {
        ctx.log.warn({ file: name, record: rec.record, code: f.code }, 'the hub cannot take the record now; the file is tried again')
        return { done: false }
      }
      failures.push(`${where}: ${f.code} ${f.detail}`)
    }
  }
  return { done: true, failures, accepted }
}

/** Moves a handled file to done/ or failed/ (with `<name>.reason.txt`). */
function settle (cfg: FileDropConfig, name: string, o: Extract<Outcome, { done: true }>): void {
  const from = join(cfg.dir, PROCESSING)
  if (o.failures.length === 0) {
    moveInto(from, name, join(cfg.dir, 'done'))
    return
  }
  const failed = join(cfg.dir, 'failed')
  // The reason is written first: whoever finds the file in failed/ finds why beside it.
  const target = moveTarget(failed, name)
  const reason = `${o.failures.length} record(s) refused, ${o.accepted} accepted\n${o.failures.join('\n')}\n`
  writeAtomic(failed, `${target}.reason.txt`, Buffer.from(reason))
  renameSync(join(from, name), join(failed, target))
  syncDir(failed)
}

function moveTarget (dir: string, name: string): string {
  let target = name
  for (let n = 1; exists(join(dir, target)); n++) target = `${name}.${n}`
  return target
}

function exists (p: string): boolean {
  try { statSync(p); return true } catch { return false }
}

/**
 * The inbound loop. A file is claimed (renamed into `.processing/`) only once it has kept its size
 * and time across two scans and for `settleMs`, so a half-written file is never read; the claim
 * is a rename, so no file is handled twice. Files left in `.processing/` by a crash are handled
 * again at start: their message ids are deterministic, so the hub answers the repeats with the
 * original receipts.
 */
export async function watchFolder (ctx: InboundContext<FileDropConfig>, submit: typeof submitDocument = submitDocument): Promise<void> {
  const cfg = ctx.config
  const signer = signerFromConfig(cfg.signing)
  const signed: typeof submitDocument = async (c, d) => await submit(c, d, signer)
  for (const sub of [PROCESSING, 'done', 'failed']) mkdirSync(join(cfg.dir, sub), { recursive: true })
  const pattern = new RegExp(cfg.pattern, 'i')
  const seen = new Map<string, { size: number, mtimeMs: number }>()
  while (!ctx.signal.aborted) {
    try {
      for (const name of readdirSync(join(cfg.dir, PROCESSING)).sort()) {
        if (ctx.signal.aborted) break
        const o = await handleFile(ctx, name, signed)
        if (o.done) settle(cfg, name, o)
      }
      const now = Date.now()
      const present = new Set<string>()
      for (const ent of readdirSync(cfg.dir, { withFileTypes: true })) {
        // Hidden and temporary names are files still being written by a careful writer.
        if (!ent.isFile() || ent.name.startsWith('.') || /\.(tmp|part)$/i.test(ent.name) || !pattern.test(ent.name)) continue
        present.add(ent.name)
        const st = statSync(join(cfg.dir, ent.name))
        const prev = seen.get(ent.name)
        seen.set(ent.name, { size: st.size, mtimeMs: st.mtimeMs })
        if (prev === undefined || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs || now - st.mtimeMs < cfg.settleMs) continue
        renameSync(join(cfg.dir, ent.name), join(cfg.dir, PROCESSING, ent.name))
        seen.delete(ent.name)
        const o = await handleFile(ctx, ent.name, signed)
        if (o.done) settle(cfg, ent.name, o)
      }
      for (const k of seen.keys()) if (!present.has(k)) seen.delete(k)
    } catch (err) {
      // A vanished share or a permission problem: say so and keep watching.
      ctx.log.error({ err, dir: cfg.dir }, 'cannot scan the drop folder')
    }
    await sleep(cfg.pollMs, ctx.signal)
  }
}
