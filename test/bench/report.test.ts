import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { benchResultFiles } from '../helpers/bench.js'

// What a bench run leaves when nobody reads its output: its result file, all the same.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A short bench run whose reader closes `closed` at once; resolves with its exit code and the stderr it could still read. */
async function benchReadBriefly (closed: Array<'stdout' | 'stderr'>): Promise<{ status: number | null, stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only=bare-c', '--quick'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  for (const name of closed) child[name].destroy()
  const status = await new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code) }) })
  return { status, stderr }
}

t.test('a reader that stops reading (npm run bench | head) does not end the run: it finishes and writes its file', { timeout: 240_000 }, async (t) => {
  const before = benchResultFiles()
  const r = await benchReadBriefly(['stdout'])
  t.equal(r.status, 0, 'exit code 0')
  t.match(r.stderr, /bare\(c\): \d+ s/, 'the progress still shows on stderr')
  t.notMatch(r.stderr, /EPIPE|Unhandled|^\s+at /m, 'no stack trace')
  const written = [...benchResultFiles()].filter((f) => !before.has(f))
  t.equal(written.length, 1, 'one new result file')
  const result = JSON.parse(readFileSync(join(ROOT, 'bench/results', written[0]), 'utf8')) as { rows: Array<{ id: string, acceptedPerSec: number }> }
  t.equal(result.rows[0]?.id, 'bare(c)')
  t.ok(result.rows[0].acceptedPerSec > 0, 'with its figures')
  rmSync(join(ROOT, 'bench/results', written[0]))

  const both = await benchReadBriefly(['stdout', 'stderr'])
  t.equal(both.status, 0, 'and with stderr closed too, exit code 0')
  const again = [...benchResultFiles()].filter((f) => !before.has(f))
  t.equal(again.length, 1, 'and its file')
  for (const f of again) rmSync(join(ROOT, 'bench/results', f))
})
