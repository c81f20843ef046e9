import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DocumentSigner } from '../../src/adapters-sdk/signing.js'
import { newKeyAndSelfSigned } from '../../src/crypto/certificates.js'

/**
 * The messages of the end-to-end benchmark, signed by the bench's own sender keys and kept in
 * `bench/.cache/` between runs (regenerated when a source document or this file's version changes).
 * Each scenario has a pool of distinct signed documents (each its own document id inside the
 * document); each request pairs one of them with a message id used once (`EGIF-Message-Id`).
 */
// The same whether this file runs from its source or from the bench's build (bench/.cache/build/).
export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/bench\/\.cache\/build\/$/, '')
export const CORPUS = join(ROOT, '../shared/corpus/etda-etax-2.0/')
export const CACHE = join(ROOT, 'bench/.cache')
const VERSION = 'fixtures-v1'

export type ScenarioId = 'a' | 'b' | 'c' | 'd'

export interface Fixture {
  /** What the document is, for the report. */
  title: string
  contentType: 'application/xml' | 'application/json'
  /** `EGIF-Document-Type` when the body does not say it (JSON). */
  documentType?: string
  /** Distinct signed bodies (base64 in the cache file). */
  bodies: Buffer[]
  /** Per body, the `EGIF-Signature` header (detached JWS) when the signature is not in the body. */
  signatures?: string[]
  /** The sender's certificate (PEM file in the cache), registered in the hub's configuration. */
  certFile: string
}

export const SENDER = 'TH-BENCH-SENDER'
export const RECEIVER = 'TH-BENCH-SINK'
export const SENDER_KEY = 'bench-sender-key'

function keyPair (name: string, alg: 'RS256' | 'ES256'): { keyFile: string, certFile: string } {
  const keyFile = join(CACHE, `${name}.key.pem`)
  const certFile = join(CACHE, `${name}.cert.pem`)
  if (!existsSync(keyFile) || !existsSync(certFile)) {
    const { keyPem, certPem } = newKeyAndSelfSigned({ alg, rsaBits: 2048, days: 3650, subject: { CN: `egif bench sender (${name})`, O: 'egif-hub bench', C: 'TH' } })
    writeFileSync(keyFile, keyPem, { mode: 0o600 })
    writeFileSync(certFile, certPem)
  }
  return { keyFile, certFile }
}

function digestOf (...parts: Array<string | Buffer>): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex').slice(0, 16)
}

interface Cached { title: string, contentType: Fixture['contentType'], documentType?: string, bodies: string[], signatures?: string[] }

/** The fixture of a scenario, from the cache or made now (`count` distinct documents). */
export function fixture (id: 'a' | 'b' | 'c', count: number, progress: (s: string) => void = () => {}): Fixture {
  mkdirSync(CACHE, { recursive: true })
  const rsa = keyPair('sender-rsa2048', 'RS256')
  const ec = keyPair('sender-p256', 'ES256')
  const sources = {
    a: join(ROOT, 'schemas/gov-letter/samples/valid/with-attachments-5kb.xml'),
    b: join(CORPUS, 'samples/INV71600001.xml'),
    c: join(ROOT, 'examples/gin-demo/messages/personnel-transfer-ocsc-to-mfa.json')
  }
  const source = readFileSync(sources[id])
  const certFile = id === 'c' ? ec.certFile : rsa.certFile
  const file = join(CACHE, `${id}-${digestOf(VERSION, source, readFileSync(certFile), String(count))}.json`)
  if (existsSync(file)) {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Cached
    return { ...c, bodies: c.bodies.map((b) => Buffer.from(b, 'base64')), certFile }
  }
  progress(`  preparing ${count} signed documents for scenario (${id}) (cached in bench/.cache/ afterwards)…`)
  const text = source.toString('utf8')
  let out: Cached
  if (id === 'a') {
    const signer = DocumentSigner.fromFiles({ keyFile: rsa.keyFile, certFile: rsa.certFile, xmlForm: 'xmldsig', c14n: 'exc-c14n', digest: 'sha256' })
    const first = '<LetterID>นร 1008/ว 12</LetterID>'
    if (!text.includes(first)) throw new Error(`${sources.a}: the letter number to vary is not there`)
    const bodies = Array.from({ length: count }, (_, i) => signer.sign(Buffer.from(text.replace(first, `<LetterID>นร 1008/ว ${100000 + i}</LetterID>`)), 'application/xml').body)
    out = { title: '5 KB gov-letter, XML-DSig RSA-2048 (exc-c14n, SHA-256)', contentType: 'application/xml', bodies: bodies.map((b) => b.toString('base64')) }
  } else if (id === 'b') {
    const signer = DocumentSigner.fromFiles({ keyFile: rsa.keyFile, certFile: rsa.certFile, xmlForm: 'xades-bes', c14n: 'c14n', digest: 'sha512' })
    const first = '<ram:ID>INV71600001</ram:ID>'
    if (!text.includes(first)) throw new Error(`${sources.b}: the invoice number to vary is not there`)
    const bodies = Array.from({ length: count }, (_, i) => signer.sign(Buffer.from(text.replace(first, `<ram:ID>INV${String(80000000 + i)}</ram:ID>`)), 'application/xml').body)
    out = { title: 'ETDA e-Tax TaxInvoice, XAdES-BES RSA-2048 (C14N, SHA-512)', contentType: 'application/xml', bodies: bodies.map((b) => b.toString('base64')) }
  } else {
    const signer = DocumentSigner.fromFiles({ keyFile: ec.keyFile, certFile: ec.certFile })
    const doc = JSON.parse(text) as { transferId: string }
    const bodies: string[] = []
    const signatures: string[] = []
    for (let i = 0; i < count; i++) {
      const body = Buffer.from(JSON.stringify({ ...doc, transferId: `OCSC-TR-2570-${String(100000 + i)}` }, null, 2))
      const signed = signer.sign(body, 'application/json')
      bodies.push(signed.body.toString('base64'))
      signatures.push(signed.headers['egif-signature'])
    }
    out = { title: '2 KB personnel-record-transfer JSON, detached JWS ES256', contentType: 'application/json', documentType: 'personnel-record-transfer', bodies, signatures }
  }
  writeFileSync(file, JSON.stringify(out))
  return { ...out, bodies: out.bodies.map((b) => Buffer.from(b, 'base64')), certFile }
}

/** The e-Tax TaxInvoice type, registered from the corpus's XSDs as docs/configuration.md shows. */
export function etaxTaxInvoiceType (): Record<string, unknown> {
  return {
    id: 'TaxInvoice_CrossIndustryInvoice',
    baseDir: join(CORPUS, 'schemas'),
    namespace: 'urn:etda:uncefact:data:standard:TaxInvoice_CrossIndustryInvoice:2',
    rootElement: 'TaxInvoice_CrossIndustryInvoice',
    versionLocation: { xpath: "string(/*/*[local-name()='ExchangedDocumentContext']/*[local-name()='GuidelineSpecifiedDocumentContextParameter']/*[local-name()='ID']/@schemeVersionID)" },
    defaultVersion: 'v2.0',
    versions: [{ version: 'v2.0', schema: 'ETDA/data/standard/TaxInvoice_CrossIndustryInvoice_2p0.xsd' }],
    signature: { policy: 'optional', forms: ['xades-bes'] }
  }
}
