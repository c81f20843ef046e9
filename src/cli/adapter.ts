import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { EXIT, UsageError, parse } from './args.js'

const HELP = `
Usage: egif adapter new <name> [--dir <folder>]
       egif adapter test <adapter folder> [--json]

new    writes <folder>/<name>/ (default folder: adapters): index.ts, a working adapter to change
       into yours; conformance.ts, its subject with a stand-in of the legacy system; fixture
       pairs (legacy input ↔ standard document) under fixtures/; and <name>.test.ts.
test   runs the folder's fixture pairs and the adapter conformance suite (schema, pure mappings,
       typed errors, honoured timeouts, dropped duplicates, inbound loop, no unhandled
       rejections) against the stand-in of conformance.ts, on this machine only.

Exit codes: 0 conforms · 1 some check failed · 2 usage · 4 the folder cannot be read
`

export async function adapter (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'new') return await newAdapter(rest)
  if (sub === 'test') return await testAdapter(rest)
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP.trimStart())
    return sub === undefined ? EXIT.USAGE : EXIT.OK
  }
  throw new UsageError(`unknown subcommand "${sub}" (new, test)`)
}

async function newAdapter (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { dir: { type: 'string' } }, HELP)
  if (positionals.length !== 1) throw new UsageError('name the adapter: egif adapter new <name>')
  const { scaffoldAdapter } = await import('../../conformance/adapters/scaffold.js')
  let files: string[]
  try {
    files = scaffoldAdapter(positionals[0], (values.dir as string | undefined) ?? 'adapters')
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  process.stdout.write(`${files.map((f) => `created ${f}`).join('\n')}\n\nNext: egif adapter test ${resolve((values.dir as string | undefined) ?? 'adapters', positionals[0])}\n`)
  return EXIT.OK
}

async function testAdapter (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, HELP)
  if (positionals.length !== 1) throw new UsageError('name the adapter folder: egif adapter test <folder>')
  const dir = resolve(positionals[0])
  const entry = ['conformance.ts', 'conformance.js'].map((f) => join(dir, f)).find((f) => existsSync(f))
  if (entry === undefined) {
    process.stderr.write(`egif adapter test: ${dir} has no conformance.ts (egif adapter new writes one)\n`)
    return EXIT.INPUT
  }
  const subject = (await import(pathToFileURL(entry).href)).default
  if (subject?.adapter === undefined) {
    process.stderr.write(`egif adapter test: ${entry} does not export a conformance subject (export default defineConformance({ adapter, config, peer }))\n`)
    return EXIT.INPUT
  }
  const { runConformance } = await import('../../conformance/adapters/run.js')
  let n = 0
  const results = await runConformance(subject, {
    fixturesDir: join(dir, 'fixtures'),
    onResult: (r) => {
      n++
      if (values.json === true) process.stdout.write(JSON.stringify(r) + '\n')
      else process.stdout.write(`${r.ok ? 'ok' : 'not ok'} ${n} - ${r.name}${r.notApplicable === true ? ` # not applicable: ${r.detail ?? ''}` : ''}\n${!r.ok && r.detail !== undefined ? r.detail.split('\n').map((l) => `  # ${l}`).join('\n') + '\n' : ''}`)
    }
  })
  const failed = results.filter((r) => !r.ok).length
  if (values.json !== true) process.stdout.write(`1..${results.length}\n# ${subject.adapter.name}: ${results.length - failed} passed, ${failed} failed\n`)
  return failed === 0 ? EXIT.OK : EXIT.REFUSED
}
