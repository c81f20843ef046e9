import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePort } from '../helpers/child-hub.js'
import { until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

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
  const demo = spawn(process.execPath, ['--import', 'tsx', 'examples/gin-demo/run.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), EGIF_DEMO_LEGACY_PORT: String(legacyPort), EGIF_DEMO_ECMS_PORT: String(ecmsPort), EGIF_DATA_DIR: tmpDir(t) },
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
  // The demo prints its banner once the hub listens; the failed write comes back a moment later.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(await health(url), 200, 'and goes on answering after its writes to stdout failed')
  demo.kill('SIGTERM')
  t.equal(await exited, 0, 'it stops on SIGTERM, exit code 0')
  t.notMatch(stderr, /EPIPE|Unhandled/, stderr.slice(-500))
})
