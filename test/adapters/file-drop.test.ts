import t from 'tap'
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tapConformance } from '../../conformance/adapters/index.js'
import subject from '../../adapters/file-drop/conformance.js'
import { csvRecords, fixedWidthRecords, parseCsvRows } from '../../adapters/file-drop/records.js'
import { KEYS, NOTE, headers, startHub, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

const FIXTURES = fileURLToPath(new URL('../../adapters/file-drop/fixtures/', import.meta.url))

t.test('file-drop passes the adapter conformance suite (fixtures included)', async (t) => {
  await tapConformance(t, subject, FIXTURES)
})

t.test('CSV: quotes, doubled quotes, new lines in quotes, CRLF, BOM; a short row is an error naming its line', async (t) => {
  const rows = parseCsvRows('\uFEFFa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z\n\n')
  t.same(rows, [{ line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['x, y', 'say "hi"'] }, { line: 3, cells: ['two\nlines', 'z'] }])
  t.same(csvRecords('f', 'n;v\n1;ก\n', { delimiter: ';' })[0].fields, { n: '1', v: 'ก' })
  t.throws(() => csvRecords('f', 'a,b\n1,2\n3\n'), { code: 'EGIF_ERR_ADAPTER_MAPPING', message: /line 3: 1 fields where the header has 2/ })
  t.throws(() => parseCsvRows('a\n"open'), { message: /not closed/ })
  t.same(fixedWidthRecords('f', 'กขค  12\n\n', [{ name: 'a', start: 1, length: 5 }, { name: 'b', start: 6, length: 2 }])[0].fields, { a: 'กขค', b: '12' }, 'columns count characters, not bytes')
})

async function inboxIds (app: any): Promise<string[]> {
  const res = await app.inject({ url: '/v1/inbox', headers: headers(KEYS.B, {}) })
  return res.json().messages.map((m: { messageId: string }) => m.messageId).sort()
}

async function stateOf (app: any, id: string): Promise<string | undefined> {
  const res = await app.inject({ url: `/v1/messages/${encodeURIComponent(id)}`, headers: headers(KEYS.A, {}) })
  return res.statusCode === 200 ? res.json().state : undefined
}

function dropHub (t: any, inboundDir: string, outDir: string, extra: Record<string, unknown> = {}, dataDir?: string) {
  return startHub(t, {
    dataDir,
    patch: (raw) => {
      raw.participants[2].delivery = { mode: 'push', adapter: 'file-drop', config: { dir: outDir } }
      raw.participants[0].inbound = [{
        adapter: 'file-drop',
        config: {
          dir: inboundDir,
          format: 'csv',
          routing: { receiver: 'fields.to', documentType: 'test-order' },
          mapping: { schemaVersion: { const: '1.0' }, orderId: 'fields.order', amount: { from: 'fields.amount', type: 'number' } },
          pollMs: 10,
          settleMs: 0,
          ...extra
        }
      }]
    }
  })
}

t.test('through a hub: each CSV row is a message; a bad row sends the file to failed/ with a reason, the good rows go', async (t) => {
  const dir = tmpDir(t)
  const inbound = join(dir, 'rd-out')
  const out = join(dir, 'c-in')
  mkdirSync(inbound)
  mkdirSync(out)
  const { app } = await dropHub(t, inbound, out)
  writeFileSync(join(inbound, 'good.csv'), 'order,amount,to\nA-1,10,TH-B\nA-2,"1,000",TH-B\n')
  writeFileSync(join(inbound, 'mixed.csv'), 'order,amount,to\nB-1,5,TH-B\nB-2,lots,TH-B\nB-3,7,TH-Z\n')
  await until(() => existsSync(join(inbound, 'done', 'good.csv')) && existsSync(join(inbound, 'failed', 'mixed.csv')), 'both files handled')
  await until(async () => (await inboxIds(app)).length >= 3, 'the mailbox')
  t.same(await inboxIds(app), ['good-1', 'good-2', 'mixed-1'], 'the good rows are in the mailbox')
  const reason = readFileSync(join(inbound, 'failed', 'mixed.csv.reason.txt'), 'utf8')
  t.match(reason, /2 record\(s\) refused, 1 accepted/)
  t.match(reason, /record 2 \(line 3\): EGIF_ERR_ADAPTER_MAPPING field "fields\.amount": "lots" is not a number/)
  t.match(reason, /record 3 \(line 4\): EGIF_ERR_RECEIVER_UNKNOWN/)
  t.same(readdirSync(join(inbound, '.processing')), [], 'nothing left claimed')
  const doc = (await app.inject({ url: '/v1/inbox/good-2', headers: headers(KEYS.B, {}) })).json()
  t.same(doc, { schemaVersion: '1.0', orderId: 'A-2', amount: 1000 })
})

t.test('a half-written file is not read; once complete it is handled once; a hidden temporary file is never read', async (t) => {
  const dir = tmpDir(t)
  const inbound = join(dir, 'in')
  mkdirSync(inbound)
  mkdirSync(join(dir, 'out'))
  // A long settle time keeps a fresh file untouched however many scans pass.
  const { app } = await dropHub(t, inbound, join(dir, 'out'), { settleMs: 3_600_000 })
  const file = join(inbound, 'batch.csv')
  writeFileSync(file, 'order,amount,to\nH-1,1,TH-B\nH-2,"2')
  writeFileSync(join(inbound, '.batch2.csv.tmp'), 'order,amount,to\nT-1,1,TH-B\n')
  await until(() => existsSync(join(inbound, '.processing')), 'the adapter started')
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.ok(existsSync(file), 'the file is still where the writer left it')
  t.same(await inboxIds(app), [], 'nothing submitted from a file being written')
  appendFileSync(file, '",TH-B\n')
  const past = new Date(Date.now() - 7_200_000)
  utimesSync(file, past, past)
  await until(() => existsSync(join(inbound, 'done', 'batch.csv')), 'the completed file is handled')
  await until(async () => (await inboxIds(app)).length >= 2, 'the mailbox')
  t.same(await inboxIds(app), ['batch-1', 'batch-2'])
  t.ok(existsSync(join(inbound, '.batch2.csv.tmp')), 'the temporary file is left alone')
})

t.test('a file claimed before a crash is handled at the next start; its rows are not sent twice', async (t) => {
  const dir = tmpDir(t)
  const inbound = join(dir, 'in')
  mkdirSync(join(inbound, '.processing'), { recursive: true })
  mkdirSync(join(dir, 'out'))
  writeFileSync(join(inbound, '.processing', 'crash.csv'), 'order,amount,to\nC-1,1,TH-B\n')
  const first = await dropHub(t, inbound, join(dir, 'out'))
  await until(() => existsSync(join(inbound, 'done', 'crash.csv')), 'resumed')
  await until(async () => (await inboxIds(first.app)).length >= 1, 'the mailbox')
  t.same(await inboxIds(first.app), ['crash-1'])
  await first.hub.close()
  // The same file dropped again (an operator re-runs the batch): the hub answers the repeat with the original receipt.
  writeFileSync(join(inbound, 'crash.csv'), 'order,amount,to\nC-1,1,TH-B\n')
  // The same hub restarted on its data directory.
  const second = await dropHub(t, inbound, join(dir, 'out'), {}, first.dataDir)
  await until(() => existsSync(join(inbound, 'done', 'crash.csv.1')), 'the repeat is handled')
  t.same(await inboxIds(second.app), ['crash-1'], 'still one message')
})

t.test('outbound through a hub: the exact bytes under a deterministic name, the envelope beside it, written atomically', async (t) => {
  const dir = tmpDir(t)
  mkdirSync(join(dir, 'in'))
  const out = join(dir, 'c-in')
  mkdirSync(out)
  const { app } = await dropHub(t, join(dir, 'in'), out)
  const body = NOTE('ถึงกรมสรรพากร')
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: body, headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'out:1' }) })
  t.equal(res.statusCode, 202)
  await until(async () => (await stateOf(app, 'out:1')) === 'delivered', 'delivered')
  const files = readdirSync(out).filter((f) => !f.startsWith('.')).sort()
  t.same(files, ['TH-A_out_1-38a3866e.xml', 'TH-A_out_1-38a3866e.xml.egif.json'])
  t.equal(readFileSync(join(out, files[0]), 'utf8'), body, 'byte for byte')
  t.match(JSON.parse(readFileSync(join(out, files[1]), 'utf8')), { messageId: 'out:1', sender: 'TH-A', digest: res.json().digest, seal: String })
  t.same(readdirSync(out).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left')
})
