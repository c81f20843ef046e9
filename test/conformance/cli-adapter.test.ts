import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir } from '../helpers/tmp.js'

const BIN = fileURLToPath(new URL('../../bin/egif.js', import.meta.url))
const egif = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })

t.test('egif adapter new scaffolds an adapter that passes egif adapter test as it is', async (t) => {
  const dir = tmpDir(t)
  const made = egif('adapter', 'new', 'saraban-xyz', '--dir', dir)
  t.equal(made.status, 0, made.stderr)
  for (const f of ['index.ts', 'conformance.ts', 'saraban-xyz.test.ts', 'fixtures/order-outbound/case.json', 'fixtures/item-inbound/case.json']) t.ok(existsSync(join(dir, 'saraban-xyz', f)), f)
  const run = egif('adapter', 'test', join(dir, 'saraban-xyz'))
  t.equal(run.status, 0, run.stdout + run.stderr)
  t.match(run.stdout, /ok \d+ - fixture order-outbound/)
  t.match(run.stdout, /timeouts honoured/)
  t.match(run.stdout, /# saraban-xyz: 11 passed, 0 failed/)

  const again = egif('adapter', 'new', 'saraban-xyz', '--dir', dir)
  t.equal(again.status, 2, 'an existing folder is never overwritten')
  t.match(again.stderr, /already exists/)
  t.equal(egif('adapter', 'new', 'Bad Name', '--dir', dir).status, 2)
})

t.test('egif adapter test fails on a fixture that does not match and on an untyped error', async (t) => {
  const dir = tmpDir(t)
  t.equal(egif('adapter', 'new', 'broken', '--dir', dir).status, 0)
  const caseFile = join(dir, 'broken', 'fixtures', 'order-outbound', 'case.json')
  writeFileSync(caseFile, readFileSync(caseFile, 'utf8').replace('"to": "TH-XYZ"', '"to": "TH-ABC"'))
  const index = join(dir, 'broken', 'index.ts')
  // An adapter that throws a bare Error on a 503 says nothing about retry or dead letter.
  writeFileSync(index, readFileSync(index, 'utf8').replace("throwForStatus(res, await res.text().catch(() => ''), url)", "if (res.status >= 500) throw new Error('down')\n    throwForStatus(res, await res.text().catch(() => ''), url)"))
  const run = egif('adapter', 'test', join(dir, 'broken'), '--json')
  t.equal(run.status, 1)
  const results = run.stdout.trim().split('\n').map((l) => JSON.parse(l))
  const failed = results.filter((r: { ok: boolean }) => !r.ok).map((r: { name: string }) => r.name)
  t.same(failed, ['fixture order-outbound: fromStandard(standard) = legacy', 'outbound: errors typed — a temporary failure is a TransientDeliveryError'])
  t.equal(egif('adapter', 'test', dir).status, 4, 'a folder without conformance.ts')
})
