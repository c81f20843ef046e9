import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FIXTURE_TYPES, KEYS, NOTE, ORDER, startHub, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

const BIN = fileURLToPath(new URL('../../bin/egif.js', import.meta.url))

async function egif (args: string[], env: Record<string, string> = {}): Promise<{ code: number, out: string, err: string }> {
  return await new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, EGIF_API_KEY: '', EGIF_SENDER: '', ...env } })
    let out = ''
    let err = ''
    p.stdout.on('data', (d: Buffer) => { out += d.toString() })
    p.stderr.on('data', (d: Buffer) => { err += d.toString() })
    p.on('close', (code) => { resolve({ code: code ?? -1, out, err }) })
  })
}

t.test('help and usage errors', async (t) => {
  const top = await egif(['--help'])
  t.equal(top.code, 0)
  t.match(top.out, /start.*\n.*send.*\n.*validate.*\n.*inbox/s)
  t.equal((await egif([])).code, 2, 'no command is a usage error')
  const unknown = await egif(['frobnicate'])
  t.equal(unknown.code, 2)
  t.match(unknown.err, /unknown command "frobnicate"/)
  for (const cmd of ['start', 'send', 'validate', 'inbox']) {
    const h = await egif([cmd, '--help'])
    t.equal(h.code, 0, `${cmd} --help`)
    t.match(h.out, new RegExp(`Usage: egif ${cmd}`))
    t.match(h.out, /Exit codes/)
  }
  const badFlag = await egif(['send', '--nope'])
  t.equal(badFlag.code, 2)
  t.match(badFlag.err, /--nope/)
})

t.test('validate works offline with the hub\'s validator', async (t) => {
  const dir = tmpDir(t)
  const cfg = join(dir, 'hub.json')
  writeFileSync(cfg, JSON.stringify({ documentTypes: { builtin: false, folders: [FIXTURE_TYPES + 'test-note', FIXTURE_TYPES + 'test-order'] }, participants: [{ id: 'X', name: { en: 'X' } }] }))
  writeFileSync(join(dir, 'good.xml'), NOTE())
  writeFileSync(join(dir, 'bad.xml'), NOTE().replace('<Subject>Hello</Subject>', ''))
  writeFileSync(join(dir, 'order.json'), ORDER())
  writeFileSync(join(dir, 'evil.xml'), '<!DOCTYPE x [<!ENTITY a "b">]><Note xmlns="urn:test:note:1"/>')
  const good = await egif(['validate', join(dir, 'good.xml'), '--config', cfg])
  t.equal(good.code, 0, good.err)
  t.match(good.out, /good\.xml: valid test-note 1\.0/)
  const bad = await egif(['validate', join(dir, 'good.xml'), join(dir, 'bad.xml'), '--config', cfg])
  t.equal(bad.code, 1)
  t.match(bad.out, /bad\.xml: invalid EGIF_ERR_SCHEMA_INVALID/)
  t.match(bad.out, /line 2: /, 'schema errors with their lines')
  const json = await egif(['validate', join(dir, 'order.json'), '--type', 'test-order', '--config', cfg, '--json'])
  t.equal(json.code, 0)
  t.match(JSON.parse(json.out), { valid: true, type: 'test-order', version: '1.0', digest: /^sha256:/ })
  const evil = await egif(['validate', join(dir, 'evil.xml'), '--config', cfg])
  t.equal(evil.code, 1)
  t.match(evil.out, /EGIF_ERR_XML_DOCTYPE/)
  const missing = await egif(['validate', join(dir, 'nope.xml'), '--config', cfg])
  t.equal(missing.code, 4)
  t.equal((await egif(['validate'])).code, 2)
  const badCfg = await egif(['validate', join(dir, 'good.xml'), '--config', join(dir, 'none.json')])
  t.equal(badCfg.code, 4)
  t.match(badCfg.err, /none\.json/)
})

t.test('send, then inbox list, fetch and ack', async (t) => {
  const dir = tmpDir(t)
  const { app, hub } = await startHub(t)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  writeFileSync(join(dir, 'a.json'), ORDER('a', 1))
  writeFileSync(join(dir, 'b.json'), ORDER('b', 2))
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ schemaVersion: '1.0' }))
  const sent = await egif(['send', join(dir, 'a.json'), join(dir, 'b.json'), '--to', 'TH-B', '--as', 'TH-A', '--type', 'test-order', '--hub', url], { EGIF_API_KEY: KEYS.A })
  t.equal(sent.code, 0, sent.err)
  t.match(sent.out, /a\.json: accepted as a-[0-9a-f]{8} \(test-order 1\.0, sha256:/)
  t.match(sent.err, /\[1\/2\] sent\n\[2\/2\] sent\n2 accepted, 0 refused/)
  const refused = await egif(['send', join(dir, 'bad.json'), '--to', 'TH-B', '--as', 'TH-A', '--type', 'test-order', '--hub', url, '--key', KEYS.A])
  t.equal(refused.code, 1)
  t.match(refused.out, /refused 422 EGIF_ERR_SCHEMA_INVALID/)
  const once = await egif(['send', join(dir, 'a.json'), '--id', 'fixed-1', '--to', 'TH-B', '--as', 'TH-A', '--type', 'test-order', '--hub', url, '--key', KEYS.A])
  t.equal(once.code, 0)
  const twice = await egif(['send', join(dir, 'a.json'), '--id', 'fixed-1', '--to', 'TH-B', '--as', 'TH-A', '--type', 'test-order', '--hub', url, '--key', KEYS.A])
  t.match(twice.out, /already accepted as fixed-1/)
  t.equal((await egif(['send', join(dir, 'a.json'), '--to', 'TH-B', '--as', 'TH-A', '--hub', url])).code, 2, 'no key is a usage error')

  await until(async () => (await hub.store.inbox('TH-B')).messages.length === 3, 'three in the mailbox')
  const list = await egif(['inbox', 'list', '--hub', url, '--key', KEYS.B])
  t.equal(list.code, 0)
  t.match(list.out, /fixed-1\tfrom TH-A\ttest-order 1\.0/)
  const out = join(dir, 'fetched.json')
  const fetched = await egif(['inbox', 'fetch', 'fixed-1', '--out', out, '--hub', url, '--key', KEYS.B])
  t.equal(fetched.code, 0, fetched.err)
  t.equal(readFileSync(out, 'utf8'), ORDER('a', 1), 'the exact bytes')
  const acked = await egif(['inbox', 'ack', 'fixed-1', '--hub', url, '--key', KEYS.B])
  t.equal(acked.code, 0)
  t.match(acked.out, /fixed-1: acknowledged/)
  t.equal((await hub.store.get('TH-A', 'fixed-1'))!.state, 'acked')
  const notThere = await egif(['inbox', 'fetch', 'nope', '--hub', url, '--key', KEYS.B])
  t.equal(notThere.code, 1)
  t.match(notThere.err, /404 EGIF_ERR_NOT_FOUND/)
})

t.test('an unreachable hub is exit code 3', async (t) => {
  const dir = tmpDir(t)
  writeFileSync(join(dir, 'a.xml'), NOTE())
  const r = await egif(['send', join(dir, 'a.xml'), '--to', 'TH-B', '--as', 'TH-A', '--hub', 'http://127.0.0.1:9', '--key', KEYS.A])
  t.equal(r.code, 3)
  t.match(r.err, /cannot reach/)
  t.equal((await egif(['inbox', '--hub', 'http://127.0.0.1:9', '--key', KEYS.B])).code, 3)
})
