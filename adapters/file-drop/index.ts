import { existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { defineAdapter, PermanentDeliveryError, TransientDeliveryError } from '../../src/adapters-sdk/index.js'
import { configSchema, type FileDropConfig } from './config.js'
import { recordToStandard, toFiles } from './standard.js'
import { watchFolder } from './watch.js'
import { writeAtomic } from './write.js'

export type { FileDropConfig } from './config.js'
export { fileNameFor, recordToStandard, toFiles } from './standard.js'

/**
 * `file-drop`: for batch systems that read and write files. Outbound, each document is written
 * atomically into `dir` under a name made from its sender and message id (a retry finds it there);
 * inbound, CSV, fixed-width or XML files dropped into `dir` become standard documents, and each
 * file ends in `done/` or `failed/` with a reason file.
 */
export default defineAdapter<FileDropConfig, any>({
  name: 'file-drop',
  description: 'Exchange documents as files in a folder: write each document for the legacy system; read the CSV, fixed-width or XML files it drops.',
  configSchema,
  fromStandard: toFiles,
  toStandard: recordToStandard,
  async deliver (msg, ctx) {
    const dir = ctx.config.dir
    if (ctx.signal.aborted) throw new TransientDeliveryError('the attempt was stopped before writing', { code: 'EGIF_ERR_DELIVERY_TIMEOUT' })
    let isDir = false
    try { isDir = statSync(dir).isDirectory() } catch { /* missing: reported below */ }
    // An unmounted share comes back; never write into an empty local folder in its place.
    if (!isDir) throw new TransientDeliveryError(`the drop folder ${dir} is not there (an unmounted share?)`)
    const files = toFiles(msg, ctx.config)
    const ledger = join(dir, '.egif-delivered')
    // The ledger remembers a delivery after the legacy system has moved the file away.
    if (existsSync(join(dir, files.name)) || existsSync(join(ledger, files.name))) {
      ctx.log.info({ file: files.name }, 'already in the drop folder: delivered')
      return
    }
    try {
      if (files.envelope !== undefined) writeAtomic(dir, `${files.name}.egif.json`, Buffer.from(JSON.stringify(files.envelope, null, 2) + '\n'))
      // The document itself, byte for byte: a sender's signature stays valid.
      writeAtomic(dir, files.name, msg.body)
      mkdirSync(ledger, { recursive: true })
      writeAtomic(ledger, files.name, Buffer.from(msg.digest))
    } catch (err) {
      const code = (err as { code?: string }).code
      const detail = `cannot write ${files.name} into ${dir}: ${(err as Error).message}`
      // A full disk or a lost share passes; a name the file system refuses does not.
      if (code === 'ENAMETOOLONG' || code === 'EINVAL') throw new PermanentDeliveryError(detail, { cause: err })
      throw new TransientDeliveryError(detail, { cause: err })
    }
  },
  async runInbound (ctx) {
    await watchFolder(ctx)
  }
})
