import t from 'tap'
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { basename, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XmlDocument } from 'libxml2-wasm'
import { DocumentTypeFolder, xmllint } from './helpers/document-type-folder.js'

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const schemasDir = join(repo, 'schemas')
const demoDir = join(repo, 'examples/gin-demo/messages')

const MANIFEST_KEYS = new Set(['id', 'title', 'description', 'format', 'namespace', 'rootElement', 'versionLocation', 'defaultVersion', 'versions', 'signature'])
const FORMS_FOR: Record<string, string[]> = { xml: ['xmldsig', 'xades-bes'], json: ['jws-detached'] }
const MAX_SAMPLE_BYTES = 8 * 1024
const XSD_NS = 'http://www.w3.org/2001/XMLSchema'

const folders = readdirSync(schemasDir).sort()
  .filter((name) => statSync(join(schemasDir, name)).isDirectory())
  .map((name) => join(schemasDir, name))

const types: DocumentTypeFolder[] = []
t.teardown(() => { for (const x of types) x.dispose() })

t.test('schemas/ holds the three built-in types', async (t) => {
  t.same(folders.map((f) => basename(f)), ['budget-disbursement-request', 'gov-letter', 'personnel-record-transfer'])
  for (const dir of folders) t.ok(existsSync(join(dir, 'manifest.json')), `${basename(dir)} has a manifest.json`)
})

for (const dir of folders) {
  const name = basename(dir)
  const type = new DocumentTypeFolder(dir)
  types.push(type)
  const m = type.manifest

  t.test(`${name}: manifest`, async (t) => {
    t.same(Object.keys(m).filter((k) => !MANIFEST_KEYS.has(k)), [], 'no members outside DocumentTypeManifest (the loader would ignore a misspelt one)')
    t.equal(m.id, name, 'id is the folder name')
    t.match(m.id, /^[A-Za-z0-9._-]{1,128}$/)
    t.type(m.title?.en, 'string', 'title.en')
    t.type(m.title?.th, 'string', 'title.th')
    t.type(m.description, 'string')
    t.ok(m.format === 'xml' || m.format === 'json', 'format')
    t.ok(Array.isArray(m.versions) && m.versions.length > 0, 'at least one version')
    t.equal(new Set(m.versions.map((v) => v.version)).size, m.versions.length, 'version labels are unique')
    for (const v of m.versions) {
      t.ok(existsSync(type.schemaFile(v.version)), `schema of ${v.version} exists`)
      t.equal(extname(v.schema), m.format === 'xml' ? '.xsd' : '.json', `schema of ${v.version} fits the format`)
    }
    t.ok(m.signature !== undefined && ['required', 'optional', 'none'].includes(m.signature.policy), 'signature policy')
    t.equal(m.signature?.policy, 'optional', 'built-in types accept signed and unsigned documents')
    t.same(m.signature?.forms?.filter((f) => !FORMS_FOR[m.format].includes(f)), [], 'signature forms fit the format')
    t.ok((m.signature?.forms?.length ?? 0) > 0, 'signature forms are listed')
    if (m.format === 'xml') {
      t.type(m.namespace, 'string', 'namespace')
      t.type(m.rootElement, 'string', 'rootElement')
      t.type(m.versionLocation?.xpath, 'string', 'versionLocation.xpath')
      t.equal(m.versionLocation?.pointer, undefined, 'no JSON pointer on an XML type')
      for (const v of m.versions) {
        const xsd = XmlDocument.fromBuffer(readFileSync(type.schemaFile(v.version)))
        try {
          const ns = { xs: XSD_NS }
          t.equal(xsd.eval('string(/xs:schema/@targetNamespace)', ns), m.namespace, `${v.version}: targetNamespace is the manifest's namespace`)
          t.equal(xsd.eval('string(/xs:schema/@elementFormDefault)', ns), 'qualified', `${v.version}: elementFormDefault="qualified"`)
          t.equal(xsd.eval(`count(/xs:schema/xs:element[@name='${m.rootElement ?? ''}'])`, ns), 1, `${v.version}: declares the root element`)
        } finally {
          xsd.dispose()
        }
      }
    } else {
      t.equal(m.namespace, undefined, 'no namespace on a JSON type')
      t.type(m.versionLocation?.pointer, 'string', 'versionLocation.pointer')
      for (const v of m.versions) {
        const schema = JSON.parse(readFileSync(type.schemaFile(v.version), 'utf8')) as Record<string, unknown>
        t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema', `${v.version}: JSON Schema draft 2020-12`)
      }
    }
  })

  t.test(`${name}: samples`, async (t) => {
    const valid = type.samples('valid')
    const invalid = type.samples('invalid')
    t.ok(valid.length >= 3, `at least 3 valid samples (${valid.length})`)
    t.ok(invalid.length >= 4, `at least 4 invalid samples (${invalid.length})`)
    const ext = `.${m.format}`

    for (const file of [...valid, ...invalid]) {
      const bytes = readFileSync(file)
      const rel = file.slice(dir.length + 1)
      t.equal(extname(file), ext, `${rel}: extension fits the format`)
      t.ok(bytes.length < MAX_SAMPLE_BYTES, `${rel}: under 8 KB (${bytes.length} bytes)`)
      t.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes), `${rel}: UTF-8`)
      if (m.format === 'xml') t.notMatch(bytes.toString('utf8'), /<!DOCTYPE/i, `${rel}: no DOCTYPE (the hub refuses one)`)
    }

    for (const file of valid) {
      const bytes = readFileSync(file)
      const rel = file.slice(dir.length + 1)
      const version = type.carriedVersion(bytes)
      t.ok(version !== undefined && m.versions.some((v) => v.version === version), `${rel}: carries a registered version (${String(version)})`)
      if (m.format === 'xml') t.equal(type.rootOf(bytes), `{${m.namespace ?? ''}}${m.rootElement ?? ''}`, `${rel}: root element`)
      const outcome = type.validate(bytes, version ?? '')
      t.ok(outcome.valid, `${rel}: valid`, { errors: outcome.errors })
    }

    for (const file of invalid) {
      const bytes = readFileSync(file)
      const rel = file.slice(dir.length + 1)
      t.match(basename(file, ext), /^[a-z0-9]+(-[a-z0-9]+)+$/, `${rel}: named after what is wrong`)
      // Well-formed on purpose: each invalid sample breaks one rule of the schema, not the syntax.
      if (m.format === 'json') t.doesNotThrow(() => JSON.parse(bytes.toString('utf8')), `${rel}: is JSON`)
      else t.doesNotThrow(() => XmlDocument.fromBuffer(bytes).dispose(), `${rel}: is well-formed`)
      for (const v of m.versions) {
        const outcome = type.validate(bytes, v.version)
        t.notOk(outcome.valid, `${rel}: invalid against ${v.version}`)
        t.ok(outcome.errors.length > 0, `${rel}: the validator says why`, { errors: outcome.errors })
        // One violation each: a sample broken in several places would hide which rule it tests.
        // (ajv reports a failed if/then twice: once for the member, once for the "then".)
        t.ok(outcome.errors.length <= 2, `${rel}: breaks one rule`, { errors: outcome.errors })
      }
    }
  })

  if (m.format === 'xml') {
    t.test(`${name}: xmllint agrees`, async (t) => {
      const probe = xmllint(type.schemaFile(m.versions[0].version), type.samples('valid')[0])
      if (!probe.available) {
        if (process.env.CI !== undefined && process.env.CI !== '') t.fail('xmllint is not installed (apt-get install libxml2-utils)')
        else t.comment('xmllint is not installed: the cross-check needs libxml2-utils')
        return
      }
      for (const file of type.samples('valid')) {
        const bytes = readFileSync(file)
        const r = xmllint(type.schemaFile(type.carriedVersion(bytes) ?? ''), file)
        t.equal(r.available && r.status, 0, `${basename(file)}: valid for xmllint`, { output: r.available ? r.output : '' })
      }
      for (const file of type.samples('invalid')) {
        for (const v of m.versions) {
          const r = xmllint(type.schemaFile(v.version), file)
          // 3 = does not validate; 4 or 5 would mean the schema itself is broken.
          t.equal(r.available && r.status, 3, `${basename(file)}: invalid for xmllint against ${v.version}`, { output: r.available ? r.output : '' })
        }
      }
    })
  }
}

t.test('demo messages', async (t) => {
  interface DemoMessage { file: string, contentType: string, sender: string, receiver: string, documentType: string, documentVersion: string }
  const index = JSON.parse(readFileSync(join(demoDir, 'index.json'), 'utf8')) as { messages: DemoMessage[] }
  const documents = readdirSync(demoDir).filter((f) => (f.endsWith('.xml') || f.endsWith('.json')) && f !== 'index.json').sort()
  t.same(index.messages.map((x) => x.file).sort(), documents, 'index.json lists every document in the folder')
  const required = ['letter-mfa-to-ocsc.xml', 'personnel-transfer-ocsc-to-mfa.json', 'budget-request-rd-to-bb.json', 'letter-bb-to-rd.xml']
  t.same(required.filter((f) => !documents.includes(f)), [], 'the demo documents are all there')
  const agencies = new Set(['TH-OCSC', 'TH-BB', 'TH-MFA', 'TH-RD'])

  for (const msg of index.messages) {
    const type = types.find((x) => x.id === msg.documentType)
    if (type === undefined) {
      t.fail(`${msg.file}: unknown document type ${msg.documentType}`)
      continue
    }
    const bytes = readFileSync(join(demoDir, msg.file))
    const m = type.manifest
    t.ok(agencies.has(msg.sender) && agencies.has(msg.receiver) && msg.sender !== msg.receiver, `${msg.file}: between two demo agencies`)
    t.equal(msg.contentType, `application/${m.format}`, `${msg.file}: content type fits ${m.id}`)
    t.ok(bytes.length < MAX_SAMPLE_BYTES, `${msg.file}: under 8 KB`)
    t.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes), `${msg.file}: UTF-8`)
    t.equal(type.carriedVersion(bytes), msg.documentVersion, `${msg.file}: carries version ${msg.documentVersion}`)
    if (m.format === 'xml') t.equal(type.rootOf(bytes), `{${m.namespace ?? ''}}${m.rootElement ?? ''}`, `${msg.file}: root element of ${m.id}`)
    const outcome = type.validate(bytes, msg.documentVersion)
    t.ok(outcome.valid, `${msg.file}: valid ${m.id}`, { errors: outcome.errors })
    if (m.format === 'xml') {
      const r = xmllint(type.schemaFile(msg.documentVersion), join(demoDir, msg.file))
      if (r.available) t.equal(r.status, 0, `${msg.file}: valid for xmllint`, { output: r.output })
    }
  }
})
