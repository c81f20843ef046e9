import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConformance } from '../../conformance/adapters/index.js'
import fileDrop, { type FileDropConfig } from './index.js'

const CSV_CONFIG: Partial<FileDropConfig> = {
  format: 'csv',
  pattern: '\\.csv$',
  routing: { receiver: 'fields.receiver', documentType: 'test-order' },
  mapping: { schemaVersion: { const: '1.0' }, orderId: 'fields.order_no', amount: { from: 'fields.amount', type: 'number' } },
  pollMs: 20,
  settleMs: 0
}

/**
 * The conformance subject of `file-drop`: a temporary folder. The legacy system "is down" when
 * its folder is gone (an unmounted share); a file system neither hangs nor refuses for good, so
 * those parts are not played.
 */
export default defineConformance<FileDropConfig>({
  adapter: fileDrop,
  config: { dir: '/srv/egif/drop/rd', ...CSV_CONFIG },
  peer: async () => {
    const root = mkdtempSync(join(tmpdir(), 'egif-file-drop-'))
    const dir = join(root, 'drop')
    let n = 0
    const restore = (): void => { if (!existsSync(dir)) renameSync(join(root, 'unmounted'), dir) }
    const { mkdirSync } = await import('node:fs')
    mkdirSync(dir)
    mkdirSync(join(root, 'unmounted'))
    return {
      config: { dir, ...CSV_CONFIG },
      behaviours: ['accept', 'transient'],
      behave: (b) => {
        restore()
        if (b === 'transient') renameSync(dir, join(root, 'unmounted-now'))
      },
      held: async () => readdirSync(dir).filter((f) => /\.(xml|json)$/.test(f) && !f.endsWith('.egif.json') && !f.startsWith('.')).length,
      produce: async () => {
        n++
        // Written under a temporary name and renamed, as a careful batch job does.
        writeFileSync(join(dir, `.batch-${n}.csv.tmp`), `order_no,amount,receiver\r\nRD-${n},"1,250.50",TH-BB\r\n`)
        renameSync(join(dir, `.batch-${n}.csv.tmp`), join(dir, `batch-${n}.csv`))
      },
      pending: async () => readdirSync(dir).filter((f) => f.endsWith('.csv')).length + (existsSync(join(dir, '.processing')) ? readdirSync(join(dir, '.processing')).length : 0),
      close: async () => { rmSync(root, { recursive: true, force: true }) }
    }
  }
})
