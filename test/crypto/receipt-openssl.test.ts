// Runs the OpenSSL commands of docs/keys-and-receipts.md as written, so the documentation cannot
// drift from what the hub produces.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateHubKey, HUB_ALGORITHMS, hubKeyFromPrivateKey } from '../../src/crypto/hub-key.js'
import { HubKeyRing } from '../../src/crypto/jwks.js'
import { verifyDetached } from '../../src/crypto/jws.js'
import { bodyDigest, sealFor, signReceipt } from '../../src/crypto/receipt.js'
import { certify, newKey, registered } from '../helpers/jose-pki.js'

const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../docs/keys-and-receipts.md'), 'utf8')

/** The shell block that follows `<!-- test: NAME … -->` in the document. */
function snippet (name: string): string {
  const m = new RegExp(`<!-- test: ${name}\\b[^>]*-->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(doc)
  if (m === null) throw new Error(`docs/keys-and-receipts.md has no block marked ${name}`)
  return m[1]
}

function sh (script: string, cwd: string, env: Record<string, string>): { status: number | null, out: string } {
  const r = spawnSync('sh', ['-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

const verifyScript = snippet('verify-with-openssl')

t.test('the documented OpenSSL recipe verifies receipts and seals of every hub algorithm', async (t) => {
  const dir = t.testdir()
  for (const alg of HUB_ALGORITHMS) {
    // Several keys per algorithm: ECDSA R and S of varying leading bytes must all convert.
    for (let i = 0; i < 3; i++) {
      const ring = new HubKeyRing(generateHubKey(alg))
      writeFileSync(join(dir, 'hub.pem'), ring.current.publicKey.export({ type: 'spki', format: 'pem' }))
      const receipt = signReceipt(ring, { messageId: `m-${i}`, status: 'accepted', note: 'ใบรับ' })
      const ok = sh(verifyScript, dir, { JWS: receipt })
      t.equal(ok.status, 0, `${alg} receipt: ${ok.out.trim()}`)
      t.match(ok.out, /Verified OK|Signature Verified Successfully/)

      const seal = sealFor(ring, { messageId: `m-${i}`, sender: 'rd', receiver: 'cgd', documentType: 't', documentVersion: '1', digest: bodyDigest(Buffer.from('x')), acceptedAt: new Date().toISOString(), senderSignature: 'verified' })
      t.equal(sh(verifyScript, dir, { JWS: seal }).status, 0, `${alg} seal`)

      const [h, p, s] = receipt.split('.')
      const other = Buffer.from(p, 'base64url').toString().replace(`m-${i}`, `m-${i + 1}`)
      const bad = sh(verifyScript, dir, { JWS: `${h}.${Buffer.from(other).toString('base64url')}.${s}` })
      t.not(bad.status, 0, `${alg}: a changed receipt fails`)
    }
  }
})

t.test('the documented x5c extraction gives the key that verifies', async (t) => {
  const dir = t.testdir()
  const jq = spawnSync('jq', ['--version'])
  const privateKey = newKey('p256')
  const certificate = certify(privateKey, { subject: { CN: 'egif hub', O: 'Hub Operator', C: 'TH' } })
  const ring = new HubKeyRing(hubKeyFromPrivateKey(privateKey, { certificate }), [generateHubKey('EdDSA')])
  const jwks = ring.jwks()
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks))
  // Without jq (not everywhere), the same step in node: the command line itself is what is documented.
  const extract = jq.status === 0
    ? `jq -r --arg kid "$KID" '.keys[] | select(.kid == $kid) | .x5c[0]' jwks.json | base64 -d | openssl x509 -inform DER -pubkey -noout > hub.pem`
    : `node -e 'const j=require("./jwks.json");process.stdout.write(j.keys.find(k=>k.kid===process.env.KID).x5c[0])' | base64 -d | openssl x509 -inform DER -pubkey -noout > hub.pem`
  t.equal(sh(extract, dir, { KID: ring.current.kid }).status, 0)
  t.equal(sh(verifyScript, dir, { JWS: signReceipt(ring, { messageId: 'x' }) }).status, 0)
})

t.test('the documented OpenSSL signing recipe makes an EGIF-Signature the hub accepts', async (t) => {
  const dir = t.testdir()
  const privateKey = newKey('rsa2048')
  const cert = certify(privateKey)
  writeFileSync(join(dir, 'agency-key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const body = Buffer.from('{"letterNo":"กค 0402/1234","subject":"ขอเบิกงบประมาณ"}\n')
  writeFileSync(join(dir, 'invoice.json'), body)
  const r = sh(snippet('sign-with-openssl'), dir, {})
  t.equal(r.status, 0, r.out)
  const result = verifyDetached(r.out.trim(), body, { trust: registered(cert), at: new Date() })
  t.equal(result.alg, 'RS256')
  t.equal(result.b64, false)
})
