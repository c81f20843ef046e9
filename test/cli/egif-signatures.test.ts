import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KEYS, NOTE, ORDER, headers, startHub, startSink, until } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'
import { egif as run } from '../helpers/egif.js'
import { hashApiKey } from '../../src/registry/participants.js'

const LETTER = fileURLToPath(new URL('../../examples/gin-demo/messages/letter-mfa-to-ocsc.xml', import.meta.url))

const egif = async (args: string[], stdin?: string) => await run(args, { stdin })

t.test('keys new, sign and verify, XML and JSON', async (t) => {
  const dir = tmpDir(t)
  const made = await egif(['keys', 'new', '--alg', 'RS256', '--subject', 'CN=Saraban system,O=Ministry of Foreign Affairs,C=TH', '--days', '30', '--out', join(dir, 'mfa')])
  t.equal(made.code, 0, made.err)
  t.equal(statSync(join(dir, 'mfa.key')).mode & 0o777, 0o600, 'the private key is readable by its owner only')
  t.match(readFileSync(join(dir, 'mfa.pem'), 'utf8'), /BEGIN CERTIFICATE/)
  t.equal((await egif(['keys', 'new', '--subject', 'CN=x,O=y,C=TH', '--out', join(dir, 'mfa')])).code, 4, 'never overwrites a key')
  const csr = await egif(['keys', 'new', '--csr', '--subject', 'CN=ระบบสารบรรณ,O=กระทรวงการต่างประเทศ,C=TH', '--out', join(dir, 'req')])
  t.equal(csr.code, 0)
  t.match(readFileSync(join(dir, 'req.csr'), 'utf8'), /BEGIN CERTIFICATE REQUEST/)

  const signedXml = join(dir, 'letter.signed.xml')
  const signed = await egif(['sign', LETTER, '--key', join(dir, 'mfa.key'), '--cert', join(dir, 'mfa.pem'), '--form', 'xades-bes', '--digest', 'sha512', '--out', signedXml])
  t.equal(signed.code, 0, signed.err)
  t.ok(readFileSync(signedXml).subarray(0, readFileSync(LETTER).length - 40).equals(readFileSync(LETTER).subarray(0, readFileSync(LETTER).length - 40)), 'the document before the signature is unchanged')
  const ok = await egif(['verify', signedXml, '--cert', join(dir, 'mfa.pem')])
  t.equal(ok.code, 0, ok.out + ok.err)
  t.match(ok.out, /valid xades-bes signature by .*Saraban system.*\(registered\)/)
  const tampered = join(dir, 'tampered.xml')
  writeFileSync(tampered, readFileSync(signedXml, 'utf8').replace('<Subject>', '<Subject>แก้ไข '))
  const bad = await egif(['verify', tampered, '--cert', join(dir, 'mfa.pem')])
  t.equal(bad.code, 1)
  t.match(bad.out, /INVALID EGIF_ERR_SIGNATURE_/)
  const other = await egif(['keys', 'new', '--subject', 'CN=other,O=Other,C=TH', '--out', join(dir, 'other')])
  t.equal(other.code, 0)
  const wrongCert = await egif(['verify', signedXml, '--cert', join(dir, 'other.pem')])
  t.equal(wrongCert.code, 1)
  t.match(wrongCert.out, /EGIF_ERR_SIGNATURE_UNTRUSTED_KEY/)
  const unsigned = await egif(['verify', LETTER, '--cert', join(dir, 'mfa.pem')])
  t.equal(unsigned.code, 1)
  t.match(unsigned.out, /not signed/)

  const order = join(dir, 'order.json')
  writeFileSync(order, ORDER())
  const jws = await egif(['sign', order, '--key', join(dir, 'other.key'), '--cert', join(dir, 'other.pem')])
  t.equal(jws.code, 0, jws.err)
  t.match(jws.out.trim(), /^[\w-]+\.\.[\w-]+$/, 'a detached JWS')
  t.equal((await egif(['verify', order, '--cert', join(dir, 'other.pem'), '--signature', jws.out.trim()])).code, 0)
  writeFileSync(order, ORDER('changed'))
  t.equal((await egif(['verify', order, '--cert', join(dir, 'other.pem'), '--signature', jws.out.trim()])).code, 1)
  t.equal((await egif(['sign', LETTER])).code, 2, 'no key is a usage error')
})

t.test('egif sign output verifies with xmlsec1, and fails there with one byte changed', async (t) => {
  const which = spawnSync('xmlsec1', ['--version'])
  if (which.error !== undefined) {
    t.fail('xmlsec1 is not installed (apt-get install xmlsec1); .ci/run installs it')
    return
  }
  const dir = tmpDir(t)
  t.equal((await egif(['keys', 'new', '--alg', 'RS256', '--subject', 'CN=RD,O=Revenue Department,C=TH', '--out', join(dir, 'rd')])).code, 0)
  for (const form of ['xmldsig', 'xades-bes']) {
    const out = join(dir, `${form}.xml`)
    t.equal((await egif(['sign', LETTER, '--key', join(dir, 'rd.key'), '--cert', join(dir, 'rd.pem'), '--form', form, '--out', out])).code, 0)
    // The certificate is self-signed: trust it as its own CA, and take no key from the document.
    const good = spawnSync('xmlsec1', ['--verify', '--enabled-key-data', 'x509', '--trusted-pem', join(dir, 'rd.pem'), out])
    t.equal(good.status, 0, `${form}: xmlsec1 verifies: ${good.stderr.toString().slice(-300)}`)
    const bytes = readFileSync(out)
    const i = bytes.indexOf('<Subject>') + 11
    bytes[i] = bytes[i] ^ 1
    writeFileSync(out, bytes)
    const bad = spawnSync('xmlsec1', ['--verify', '--enabled-key-data', 'x509', '--trusted-pem', join(dir, 'rd.pem'), out])
    t.not(bad.status, 0, `${form}: xmlsec1 refuses the changed document`)
  }
})

t.test('receipt verify and seal verify against the hub\'s published keys', async (t) => {
  const dir = tmpDir(t)
  const sink = await startSink(t)
  const { app, hub } = await startHub(t, { pushUrl: sink.url })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const res = await app.inject({ method: 'POST', url: '/v1/messages', payload: NOTE(), headers: headers(KEYS.A, { 'content-type': 'application/xml', 'egif-sender': 'TH-A', 'egif-receiver': 'TH-C', 'egif-message-id': 'rv-1' }) })
  t.equal(res.statusCode, 202)
  await until(async () => (await hub.store.get('TH-A', 'rv-1'))?.state === 'delivered', 'delivery')
  const receiptFile = join(dir, 'receipt.json')
  writeFileSync(receiptFile, res.body)
  const byUrl = await egif(['receipt', 'verify', receiptFile, '--jwks', `${url}/.well-known/jwks.json`])
  t.equal(byUrl.code, 0, byUrl.out + byUrl.err)
  t.match(byUrl.out, /valid receipt: rv-1 accepted from TH-A to TH-C/)
  const jwksFile = join(dir, 'jwks.json')
  writeFileSync(jwksFile, (await app.inject({ url: '/.well-known/jwks.json' })).body)
  t.equal((await egif(['receipt', 'verify', '-', '--jwks', jwksFile], res.body)).code, 0, 'from standard input and a saved JWKS')
  const edited = JSON.stringify({ ...res.json(), receiver: 'TH-B' })
  const forged = await egif(['receipt', 'verify', '-', '--jwks', jwksFile], edited)
  t.equal(forged.code, 1, 'an edited receipt fails')
  t.match(forged.out, /INVALID EGIF_ERR_JWS_INVALID/)
  const bodyFile = join(dir, 'body.xml')
  writeFileSync(bodyFile, sink.requests[0].body)
  const seal = String(sink.requests[0].headers['egif-seal'])
  t.equal((await egif(['seal', 'verify', seal, '--jwks', jwksFile, '--body', bodyFile])).code, 0)
  writeFileSync(bodyFile, Buffer.concat([sink.requests[0].body, Buffer.from(' ')]))
  t.equal((await egif(['seal', 'verify', seal, '--jwks', jwksFile, '--body', bodyFile])).code, 1, 'the seal does not cover other bytes')
  t.equal((await egif(['receipt', 'verify', receiptFile, '--jwks', 'http://127.0.0.1:9/jwks.json'])).code, 3)
})

t.test('API keys: make one and hash one', async (t) => {
  const made = await egif(['keys', 'api-key'])
  t.equal(made.code, 0)
  const [, key] = /api key.*: (\S+)/.exec(made.out)!
  const [, hash] = /configure:\s+(sha256:[0-9a-f]{64})/.exec(made.out)!
  const hashed = await egif(['keys', 'hash', key])
  t.equal(hashed.out.trim(), hash, 'keys hash gives the hash keys api-key printed')
  t.equal((await egif(['keys', 'hash'], `${key}\n`)).out.trim(), hash, 'also from standard input')
  t.match(key, /^egif_[A-Za-z0-9_-]{43}$/, 'a new key names what it is and never starts with "-"')
  // A key of another origin may start with "-": after "--" it is the key, not an option.
  const dashed = await egif(['keys', 'hash', '--', '-Xk2jsd8f7sdf'])
  t.equal(dashed.code, 0, dashed.err)
  t.equal(dashed.out.trim(), hashApiKey('-Xk2jsd8f7sdf'))
})
