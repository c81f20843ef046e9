import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { EXIT_READER_GONE } from '../../src/cli/output.js'
import { freePort } from '../helpers/child-hub.js'
import { until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'
import { egif } from '../helpers/egif.js'
import { ring, writeTrail } from '../trail/helpers.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

async function health (url: string): Promise<number | undefined> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status
  } catch {
    return undefined
  }
}

t.test('a hub whose output nobody reads any more keeps serving, and stops when asked (npm start | head)', { timeout: 120_000 }, async (t) => {
  const [port, legacyPort, ecmsPort] = [await freePort(), await freePort(), await freePort()]
  const dataDir = tmpDir(t)
  const checkoutHadData = existsSync(join(ROOT, 'data'))
  const demo = spawn(process.execPath, ['--import', 'tsx', 'examples/gin-demo/run.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EGIF_DEMO_LEGACY_PORT: String(legacyPort), EGIF_DEMO_ECMS_PORT: String(ecmsPort), EGIF_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<number | string>((resolve) => demo.once('exit', (code, signal) => { resolve(code ?? signal ?? '') }))
  t.teardown(() => { demo.kill('SIGKILL') })
  let stderr = ''
  demo.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  // The reader goes away before the hub writes its first line: every write to stdout fails.
  demo.stdout.destroy()
  const url = `http://127.0.0.1:${port}`
  await until(async () => await health(url) === 200, 'the hub to answer', 60_000)
  t.equal(await health(url), 200, 'the hub answers')
  // Its own data directory holds everything it writes, the Revenue Department's drop folders too.
  t.ok(existsSync(join(dataDir, 'rd', 'inbox')) && existsSync(join(dataDir, 'rd', 'outbox')), 'the drop folders are in its data directory')
  if (!checkoutHadData) t.notOk(existsSync(join(ROOT, 'data')), 'and nothing in the checkout\'s ./data')
  // The demo prints its banner once the hub listens; the failed write comes back a moment later.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(await health(url), 200, 'and goes on answering after its writes to stdout failed')
  demo.kill('SIGTERM')
  t.equal(await exited, 0, 'it stops on SIGTERM, exit code 0')
  t.notMatch(stderr, /EPIPE|Unhandled/, stderr.slice(-500))
})

t.test('a command whose output nobody reads any more stops at once, quietly, exit code 141 (egif … | head)', { timeout: 60_000 }, async (t) => {
  const none = await egif(['keys', 'api-key'], { readUntil: () => true })
  t.equal(none.code, EXIT_READER_GONE, 'nothing read: 128 + SIGPIPE')
  t.equal(none.err, '', 'no stack trace, no message')

  // An export far larger than a pipe holds, read up to its first line (head -1).
  const dir = tmpDir(t)
  await writeTrail(join(dir, 'trail'), ring(), 400, 50)
  const whole = await egif(['trail', 'export', '--data-dir', dir])
  t.equal(whole.code, 0, whole.err)
  t.ok(whole.out.length > 256 * 1024, `the export is larger than a pipe holds (${whole.out.length} bytes)`)
  const head = await egif(['trail', 'export', '--data-dir', dir], { readUntil: (out) => out.includes('\n') })
  t.equal(head.code, EXIT_READER_GONE, 'stopped when the reader left')
  t.ok(head.out.length < whole.out.length, 'before the end of the export')
  t.equal(head.err, '', 'quietly')
})

t.test('a command whose standard error nobody reads goes on and ends with its own exit code', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t)
  await writeTrail(join(dir, 'trail'), ring(), 5, 5)
  // --out: the result goes to a file, and the one line on standard error has no reader.
  const bundle = join(dir, 'all.jsonl')
  const r = await egif(['trail', 'export', '--data-dir', dir, '--out', bundle], { closeStderr: true })
  t.equal(r.code, 0)
  t.match(readFileSync(bundle, 'utf8'), /"i":14,[^\n]*\n(\{"checkpoint":[^\n]*\n)+$/, 'the bundle is written to its last record and checkpoint')
  const usage = await egif(['trail', 'export', '--from', 'yesterday'], { closeStderr: true })
  t.equal(usage.code, 2, 'a usage error is still a usage error')
})
