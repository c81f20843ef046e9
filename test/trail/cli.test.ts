import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Trail } from '../../src/trail/trail.js'
import { KEYS, NOTE, headers, startHub } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'
import { egif as run } from '../helpers/egif.js'
import { jwkOf, ring, writeTrail } from './helpers.js'

const egif = async (args: string[], env: Record<string, string> = {}) => await run(args, { env })

t.test('verify a data directory, then find a tampered record; export offline', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  await writeTrail(join(dir, 'trail'), keys, 20, 10)
  const cert = join(dir, 'hub.jwks')
  writeFileSync(cert, jwkOf(keys))
  const good = await egif(['trail', 'verify', dir, '--cert', cert, '--progress'])
  t.equal(good.code, 0, good.out + good.err)
  t.match(good.out, /OK\s+hub-1 .*records 0\.\.59/)
  t.match(good.out, /records\/s/)

  t.equal((await egif(['trail', 'verify', dir])).code, 2, '--cert is required')

  const bundle = join(dir, 'all.jsonl')
  const exp = await egif(['trail', 'export', '--data-dir', dir, '--out', bundle])
  t.equal(exp.code, 0, exp.err)
  const fromBundle = await egif(['trail', 'verify', bundle, '--cert', cert, '--message', 'm-3'])
  t.equal(fromBundle.code, 0, fromBundle.out)
  t.match(fromBundle.out, /m-3\n.*accepted.*hub-1:9\n.*in-mailbox.*\n.*acked.*by TH-B/)

  const file = join(dir, 'trail', 'hub-1', 'records.jsonl')
  const lines = readFileSync(file, 'utf8').split('\n')
  lines[33] = lines[33].replace('"TH-A"', '"TH-Z"')
  writeFileSync(file, lines.join('\n'))
  const bad = await egif(['trail', 'verify', dir, '--cert', cert, '--json'])
  t.equal(bad.code, 1)
  const report = JSON.parse(bad.out)
  t.equal(report.ok, false)
  t.equal(report.reports[0].firstBad.index, 33)
  const text = await egif(['trail', 'verify', dir, '--cert', cert])
  t.match(text.out, /first bad record: hub-1:33/)

  const other = ring()
  writeFileSync(cert, jwkOf(other))
  t.equal((await egif(['trail', 'verify', bundle, '--cert', cert])).code, 1, 'another hub\'s key')
})

t.test('several processes\' trails: each verified, one message\'s history across them', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const a = await Trail.open(join(dir, 'trail'), { log: 'HUB.101', keys, unsafeNoSync: true })
  const b = await Trail.open(join(dir, 'trail'), { log: 'HUB.202', keys, unsafeNoSync: true })
  const m = { messageId: 'x-1', sender: 'TH-A', receiver: 'TH-C' }
  await a.append({ type: 'accepted', ...m, at: '2026-03-01T10:00:00.000Z' })
  await b.append({ type: 'attempt-failed', ...m, attempt: 1, code: 'EGIF_ERR_DELIVERY_TRANSIENT', at: '2026-03-01T10:00:01.000Z' })
  await a.append({ type: 'delivered', ...m, attempt: 2, at: '2026-03-01T10:00:05.000Z' })
  await a.close()
  await b.close()
  const cert = join(dir, 'hub.jwks')
  writeFileSync(cert, jwkOf(keys))
  const r = await egif(['trail', 'verify', dir, '--cert', cert, '--message', 'x-1'])
  t.equal(r.code, 0, r.out + r.err)
  t.match(r.out, /OK\s+HUB\.101/)
  t.match(r.out, /OK\s+HUB\.202/)
  t.match(r.out, /x-1\n.*accepted\s+HUB\.101:0\n.*attempt-failed\s+HUB\.202:0 attempt 1 EGIF_ERR_DELIVERY_TRANSIENT\n.*delivered\s+HUB\.101:1 attempt 2/)
})

t.test('prove: a sender checks that the hub received its message, and that the trail only grew', async (t) => {
  const { hub, app } = await startHub(t)
  const res = await app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-message-id': 'p-1', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-document-type': 'test-note' }),
    payload: NOTE('prove me')
  })
  t.equal(res.statusCode, 202)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const addr = app.server.address()
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  const dir = tmpDir(t)
  writeFileSync(join(dir, 'receipt.json'), res.body)
  writeFileSync(join(dir, 'hub.jwks'), JSON.stringify(hub.jwks()))
  const env = { EGIF_HUB_URL: url, EGIF_API_KEY: KEYS.A }
  const first = await egif(['trail', 'prove', 'p-1', '--cert', join(dir, 'hub.jwks'), '--receipt', join(dir, 'receipt.json'), '--save', join(dir, 'cp.json')], env)
  t.equal(first.code, 0, first.out + first.err)
  t.match(first.out, /PROVEN: \d records of p-1 are in trail TEST-HUB/)
  t.match(first.out, /TEST-HUB:\d+  \S+  accepted sha256:/)
  t.match(first.out, /the receipt names the accepted record/)

  await hub.trail.append({ type: 'started', detail: 'more records later' })
  await hub.trail.checkpoint()
  const again = await egif(['trail', 'prove', 'p-1', '--cert', join(dir, 'hub.jwks'), '--since', join(dir, 'cp.json')], env)
  t.equal(again.code, 0, again.out + again.err)
  t.match(again.out, /extends the one saved earlier/)

  const forged = JSON.parse(res.body)
  forged.digest = 'sha256:' + '0'.repeat(64)
  writeFileSync(join(dir, 'forged.json'), JSON.stringify(forged))
  const no = await egif(['trail', 'prove', 'p-1', '--cert', join(dir, 'hub.jwks'), '--receipt', join(dir, 'forged.json')], env)
  t.equal(no.code, 1)
  t.match(no.out, /NOT PROVEN/)
  t.equal((await egif(['trail', 'prove', 'p-1'], { ...env, EGIF_API_KEY: KEYS.C })).code, 1, 'not the caller\'s message')
  writeFileSync(join(dir, 'elsewhere.json'), JSON.stringify({ ...JSON.parse(res.body), trail: { log: 'TEST-HUB.4242', index: 3 } }))
  const elsewhere = await egif(['trail', 'prove', 'p-1', '--cert', join(dir, 'hub.jwks'), '--receipt', join(dir, 'elsewhere.json')], env)
  t.equal(elsewhere.code, 1)
  t.match(elsewhere.err, /EGIF_ERR_NOT_FOUND: this hub keeps trail TEST-HUB, not TEST-HUB\.4242/, 'a receipt naming another trail: the hub says which one it keeps')

  // The auditor exports through the API and verifies the bundle offline.
  const bundle = join(dir, 'export.jsonl')
  const exp = await egif(['trail', 'export', '--from', '2000-01-01T00:00:00Z', '--out', bundle], { ...env, EGIF_API_KEY: KEYS.AUDITOR })
  t.equal(exp.code, 0, exp.err)
  const v = await egif(['trail', 'verify', bundle, '--cert', join(dir, 'hub.jwks'), '--message', 'p-1'])
  t.equal(v.code, 0, v.out)
  t.match(v.out, /p-1\n.*accepted\s+TEST-HUB:\d+/)
  t.equal((await egif(['trail', 'export'], env)).code, 1, 'a participant may not export')
})
