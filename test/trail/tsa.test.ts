import t, { type Test } from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { createServer } from 'node:http'
import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Trail } from '../../src/trail/trail.js'
import { verifyTrails } from '../../src/trail/verify.js'
import { verifyTimestampToken } from '../../src/trail/tsa.js'
import { tmpDir } from '../helpers/tmp.js'
import { ring, trusted } from './helpers.js'

const run = promisify(execFile)

/** A time-stamping authority made with openssl: its own key and certificate, `openssl ts -reply` behind HTTP. */
async function startTsa (t: Test, dir: string, name: string): Promise<{ url: string, cert: string }> {
  const key = join(dir, `${name}.key`)
  const cert = join(dir, `${name}.crt`)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/C=TH/O=Test/CN=${name}`,
    '-addext', 'extendedKeyUsage=critical,timeStamping', '-addext', 'keyUsage=critical,digitalSignature'], { stdio: 'ignore' })
  writeFileSync(join(dir, `${name}.serial`), '01\n')
  const cnf = join(dir, `${name}.cnf`)
  writeFileSync(cnf, [
    '[ tsa ]', 'default_tsa = tsa_config', '[ tsa_config ]',
    `serial = ${join(dir, `${name}.serial`)}`, 'crypto_device = builtin', `signer_cert = ${cert}`, `signer_key = ${key}`,
    'signer_digest = sha256', 'default_policy = 1.2.3.4.1', 'digests = sha256, sha384, sha512', 'accuracy = secs:1',
    'ordering = no', 'tsa_name = no', 'ess_cert_id_chain = no', 'ess_cert_id_alg = sha256', ''
  ].join('\n'))
  let n = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const q = join(dir, `${name}-${++n}.tsq`)
      const r = join(dir, `${name}-${n}.tsr`)
      writeFileSync(q, Buffer.concat(chunks))
      run('openssl', ['ts', '-reply', '-config', cnf, '-queryfile', q, '-out', r]).then(
        () => { res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(readFileSync(r)) },
        () => { res.writeHead(500).end() })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  const addr = server.address()
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/tsa`, cert }
}

t.test('checkpoints are time-stamped by an RFC 3161 authority; the verifier checks the tokens', async (t) => {
  const dir = tmpDir(t)
  const tsa = await startTsa(t, dir, 'tsa')
  const keys = ring()
  const trail = await Trail.open(join(dir, 'trail'), { log: 'hub-1', keys, tsaUrl: tsa.url, checkpointEveryRecords: 3, unsafeNoSync: true })
  for (let i = 0; i < 7; i++) await trail.append({ type: 'accepted', messageId: `m-${i}` })
  await trail.close()
  const cps = trail.checkpoints()
  t.same(cps.map((c) => c.body.size), [3, 6, 7])
  t.ok(cps.every((c) => typeof c.tsa === 'string'), 'every checkpoint has a token')

  // openssl agrees that the token stamps the checkpoint's JWS.
  writeFileSync(join(dir, 'cp.jws'), cps[0].checkpoint)
  writeFileSync(join(dir, 'token.der'), Buffer.from(cps[0].tsa!, 'base64'))
  const ossl = await run('openssl', ['ts', '-verify', '-data', join(dir, 'cp.jws'), '-in', join(dir, 'token.der'), '-token_in', '-CAfile', tsa.cert, '-untrusted', tsa.cert])
  t.match(ossl.stdout, /Verification: OK/)

  const tsaCert = new X509Certificate(readFileSync(tsa.cert))
  const check = verifyTimestampToken(Buffer.from(cps[0].tsa!, 'base64'), Buffer.from(cps[0].checkpoint), { trusted: [tsaCert] })
  t.ok(Math.abs(Date.parse(check.time) - Date.parse(cps[0].body.time)) < 60_000, 'the authority\'s time is close to the checkpoint time')
  t.throws(() => verifyTimestampToken(Buffer.from(cps[0].tsa!, 'base64'), Buffer.from(cps[1].checkpoint), {}), /other bytes/)

  const dirOfLog = join(dir, 'trail', 'hub-1')
  const good = verifyTrails([{ kind: 'dir', dir: dirOfLog }], { keys: trusted(keys), tsaCerts: [tsaCert] }).reports[0]
  t.equal(good.ok, true, JSON.stringify(good.problems))
  t.equal(good.timestamped, 3)

  // Another authority is not trusted; a token moved to another checkpoint does not verify.
  const other = await startTsa(t, dir, 'other')
  const otherCert = new X509Certificate(readFileSync(other.cert))
  const wrong = verifyTrails([{ kind: 'dir', dir: dirOfLog }], { keys: trusted(keys), tsaCerts: [otherCert] }).reports[0]
  t.equal(wrong.ok, false)
  t.match(wrong.problems[0].message, /not by a trusted authority/)
  const lines = readFileSync(join(dirOfLog, 'checkpoints.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
  lines[1].tsa = lines[0].tsa
  writeFileSync(join(dirOfLog, 'checkpoints.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''))
  const moved = verifyTrails([{ kind: 'dir', dir: dirOfLog }], { keys: trusted(keys), tsaCerts: [tsaCert] }).reports[0]
  t.equal(moved.ok, false)
  t.match(moved.problems.map((p) => p.message).join('\n'), /checkpoint 2 \(size 6\): the time-stamp token does not verify: the token stamps other bytes/)
})

t.test('an authority that cannot be reached leaves the checkpoint without a token', async (t) => {
  const dir = tmpDir(t)
  const keys = ring()
  const trail = await Trail.open(dir, { log: 'hub-1', keys, tsaUrl: 'http://127.0.0.1:9/tsa', tsaTimeoutMs: 500, unsafeNoSync: true })
  await trail.append({ type: 'started' })
  const cp = await trail.checkpoint()
  t.equal(cp?.tsa, undefined)
  t.equal(cp?.body.size, 1)
  await trail.close()
})
