import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { KEYS, headers, startHub } from '../helpers/hub.js'

/**
 * The ETDA e-Tax Invoice & Receipt v2.0 corpus (real third-party schemas and samples), registered
 * from configuration as a folder of XSDs, and every sample submitted through the HTTP API.
 */
const CORPUS = fileURLToPath(new URL('../../../shared/corpus/etda-etax-2.0/', import.meta.url))
const expected = JSON.parse(readFileSync(CORPUS + 'expected.json', 'utf8')) as {
  documentTypes: Record<string, { namespace: string, xsd: string }>
  samples: Record<string, string>
}

/** The e-Tax types as an operator would register them (see docs/configuration.md). */
export function etaxTypes (): unknown[] {
  return Object.entries(expected.documentTypes).map(([id, d]) => ({
    id,
    baseDir: CORPUS + 'schemas',
    namespace: d.namespace,
    rootElement: id,
    versionLocation: { xpath: "string(/*/*[local-name()='ExchangedDocumentContext']/*[local-name()='GuidelineSpecifiedDocumentContextParameter']/*[local-name()='ID']/@schemeVersionID)" },
    defaultVersion: 'v2.0',
    versions: [{ version: 'v2.0', schema: d.xsd.replace(/^schemas\//, '') }]
  }))
}

function outcome (label: string): { status: number, code?: RegExp } {
  if (label.startsWith('accept')) return { status: 202 }
  if (label === 'reject: schema') return { status: 422, code: /^EGIF_ERR_SCHEMA_INVALID$/ }
  if (label.startsWith('reject: unknown document type')) return { status: 422, code: /^EGIF_ERR_TYPE_UNKNOWN$/ }
  if (label.startsWith('reject: unsupported version')) return { status: 422, code: /^EGIF_ERR_VERSION_UNSUPPORTED$/ }
  // Two root elements is one way of not being well-formed; it has its own, more precise code.
  if (label === 'reject: not well-formed') return { status: 400, code: /^EGIF_ERR_XML_(MALFORMED|MULTIPLE_ROOTS)$/ }
  throw new Error(`unknown label ${label}`)
}

t.test('all 21 samples get exactly the outcome expected.json lists', async (t) => {
  const { app } = await startHub(t, {
    patch: (raw) => {
      raw.documentTypes.xsd = etaxTypes()
      raw.routes.push({ from: 'TH-A', to: 'TH-B', types: Object.keys(expected.documentTypes) })
    }
  })
  const files = readdirSync(CORPUS + 'samples').sort()
  t.equal(files.length, 21, 'the corpus has 21 samples')
  t.same(files, Object.keys(expected.samples).sort(), 'and expected.json labels each one')
  for (const [i, file] of files.entries()) {
    const label = expected.samples[file]
    const want = outcome(label)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      payload: readFileSync(CORPUS + 'samples/' + file),
      headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-B', 'egif-message-id': `etax-${i}` })
    })
    t.equal(res.statusCode, want.status, `${file} (${label}): ${res.statusCode} ${res.statusCode === 202 ? res.json().documentType : res.json().code + ' ' + String(res.json().detail).slice(0, 120)}`)
    if (want.code !== undefined) t.match(res.json().code, want.code, `${file}: code`)
    if (want.status === 202) t.equal(res.json().documentVersion, 'v2.0', `${file}: read as v2.0`)
  }
})
