import { createPublicKey, sign, verify } from 'node:crypto'
import { generateHubKey, hubKeyFromPrivateKey, type HubAlgorithm } from '../src/crypto/hub-key.js'
import { HubKeyRing } from '../src/crypto/jwks.js'
import { keysFromJwks, signDetached, verifyDetached } from '../src/crypto/jws.js'
import { bodyDigest, sealFor, signReceipt, verifyReceipt } from '../src/crypto/receipt.js'
import { buildCertificate } from '../src/crypto/x509-builder.js'

/**
 * `node --import tsx bench/jws.bench.ts [--quick]`: receipts signed per second for each hub
 * algorithm, and detached EGIF-Signature verifications per second over a 2 KB body (ES256, RS256),
 * each beside its baseline: the bare node:crypto sign / verify of the same bytes, so the JOSE
 * overhead (JSON, base64url, header checks, key selection) is the difference.
 */
const quick = process.argv.includes('--quick')
const durationMs = quick ? 300 : 2000

function rate (fn: () => unknown): number {
  for (let i = 0; i < 50; i++) fn() // warm-up
  let n = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(durationMs) * 1_000_000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 20; i++) fn()
    n += 20
    now = process.hrtime.bigint()
  }
  return n / (Number(now - start) / 1e9)
}

const rows: Array<{ case: string, opsPerSec: number, baseline?: number }> = []
function report (name: string, ops: number, baseline?: number): void {
  rows.push({ case: name, opsPerSec: Math.round(ops), baseline: baseline === undefined ? undefined : Math.round(baseline) })
  const vs = baseline === undefined ? '' : `   (bare node:crypto ${Math.round(baseline).toLocaleString('en')}/s, ${(100 * ops / baseline).toFixed(0)}%)`
  process.stdout.write(`${name.padEnd(46)} ${Math.round(ops).toLocaleString('en').padStart(9)}/s${vs}\n`)
}

const receipt = {
  messageId: 'INV-2024-000123',
  status: 'accepted',
  sender: 'TH-RD',
  receiver: 'TH-CGD',
  documentType: 'etda.tax-invoice',
  documentVersion: '2.0',
  receivedAt: '2024-05-01T03:04:05.678Z',
  digest: bodyDigest(Buffer.from('x')),
  trail: { log: 'TH-EGIF-HUB', seq: 123456, hash: 'sha256:' + 'ab'.repeat(32) }
}

const HASH: Record<HubAlgorithm, string | null> = { RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', EdDSA: null }

process.stdout.write(`# receipts (${durationMs} ms per case)\n`)
for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256'] as const) {
  const ring = new HubKeyRing(generateHubKey(alg))
  const sample = Buffer.from(signReceipt(ring, receipt).split('.').slice(0, 2).join('.'))
  const bare = rate(() => sign(HASH[alg], sample, ring.current.privateKey))
  report(`signReceipt ${alg}`, rate(() => signReceipt(ring, receipt)), bare)
}
{
  const ring = new HubKeyRing(generateHubKey('ES256'))
  const fields = { messageId: 'm', sender: 'a', receiver: 'b', documentType: 't', documentVersion: '1', digest: receipt.digest, acceptedAt: receipt.receivedAt, senderSignature: 'verified' as const }
  report('sealFor ES256', rate(() => sealFor(ring, fields)))
  const jws = signReceipt(ring, receipt)
  const jwks = ring.jwks()
  const keys = keysFromJwks(jwks)
  report('verifyReceipt ES256, keys imported once', rate(() => verifyReceipt(jws, keys)))
  report('verifyReceipt ES256, JWKS imported each time', rate(() => verifyReceipt(jws, jwks)))
}

process.stdout.write('# detached EGIF-Signature over a 2 KB body\n')
const body = Buffer.from(JSON.stringify({ data: 'ข้อมูล'.repeat(20), pad: 'x'.repeat(2048) })).subarray(0, 2048)
for (const [alg, type] of [['ES256', 'ec'], ['RS256', 'rsa']] as const) {
  const template = generateHubKey(alg)
  const certificate = buildCertificate({ subject: { CN: 'agency', O: 'Agency', C: 'TH' }, subjectKey: template.privateKey, notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000 * 365) })
  const key = hubKeyFromPrivateKey(template.privateKey, { alg, certificate })
  const trust = { certificates: [certificate], authorities: [] }
  const at = new Date()
  const withX5c = signDetached(key, body)
  const without = signDetached(key, body, { x5c: false })
  const [h, , s] = without.split('.')
  const input = Buffer.concat([Buffer.from(`${h}.`), body])
  const signature = Buffer.from(s, 'base64url')
  const publicKey = createPublicKey(key.privateKey)
  const options = type === 'ec' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey
  const bare = rate(() => verify('sha256', input, options, signature))
  report(`verifyDetached ${alg}, registered certificate`, rate(() => verifyDetached(without, body, { trust, at })), bare)
  report(`verifyDetached ${alg}, x5c checked against trust`, rate(() => verifyDetached(withX5c, body, { trust, at })), bare)
  report(`signDetached ${alg}`, rate(() => signDetached(key, body)))
}

if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
