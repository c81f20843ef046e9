import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { isHubError } from '../errors.js'
import { loadConfig, resolveConfig } from '../config/load.js'
import { DocumentTypeRegistry } from '../registry/document-types.js'
import { checkDocument } from '../pipeline/check-document.js'
import { BUILTIN_SCHEMAS } from '../hub.js'
import { EXIT, UsageError, parse } from './args.js'

const HELP = `
Usage: egif validate <file…> [--type <id>] [--version <v>] [--config <file>]

Checks documents offline with the hub's own parser and validator: strict parsing, document type
and version, XSD or JSON Schema. Signatures and routes are not checked.

Options:
  --type <id>       document type; XML documents may omit it (found from the root element)
  --version <v>     version, when the document does not carry one
  --config <file>   hub configuration whose document types to use; default the built-in types
  --json            print results as JSON lines

Exit codes: 0 all valid · 1 some invalid · 2 usage · 4 unreadable file or configuration
`

export async function validate (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    type: { type: 'string' },
    version: { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' }
  }, HELP)
  if (positionals.length === 0) throw new UsageError('name at least one file to validate')
  let registry: DocumentTypeRegistry
  try {
    const cfg = values.config !== undefined
      ? loadConfig(values.config as string)
      : resolveConfig({ participants: [{ id: 'offline', name: { en: 'offline' } }] }, process.cwd() + '/offline.yaml', {})
    registry = DocumentTypeRegistry.fromConfig(cfg, BUILTIN_SCHEMAS)
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    return EXIT.INPUT
  }
  let invalid = 0
  let unreadable = 0
  for (const file of positionals) {
    let body: Buffer
    try {
      body = readFileSync(file)
    } catch (err) {
      unreadable++
      process.stderr.write(`${file}: cannot read (${(err as Error).message})\n`)
      continue
    }
    const format = extname(file).toLowerCase() === '.json' ? 'json' : 'xml'
    try {
      const r = checkDocument(body, format, registry, { maxBodyBytes: 64 * 1024 * 1024, jsonMaxDepth: 64, xml: {} }, { type: values.type as string | undefined, version: values.version as string | undefined })
      if (values.json === true) process.stdout.write(JSON.stringify({ file, valid: true, ...r }) + '\n')
      else process.stdout.write(`${file}: valid ${r.type} ${r.version}\n`)
    } catch (err) {
      if (!isHubError(err)) throw err
      invalid++
      if (values.json === true) {
        process.stdout.write(JSON.stringify({ file, valid: false, code: err.code, detail: err.message, ...err.extra }) + '\n')
      } else {
        process.stdout.write(`${file}: invalid ${err.code}: ${err.message}\n`)
        for (const e of (err.extra.errors as Array<{ line?: number, path?: string, message: string }> | undefined) ?? []) {
          process.stdout.write(`  ${e.line !== undefined ? `line ${e.line}` : e.path ?? ''}: ${e.message}\n`)
        }
      }
    }
  }
  registry.close()
  if (unreadable > 0) return EXIT.INPUT
  return invalid > 0 ? EXIT.REFUSED : EXIT.OK
}
