import t from 'tap'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newKeyAndCsr, newKeyAndSelfSigned } from '../../src/crypto/certificates.js'
import { HUB_ALGORITHMS, loadHubKey } from '../../src/crypto/hub-key.js'
import { subjectFields } from '../../src/crypto/trust.js'
import { DAY } from '../helpers/jose-pki.js'

const subject = { CN: 'ศูนย์แลกเปลี่ยนข้อมูล egif-hub', O: 'Hub Operator, Ltd.', OU: 'IT', C: 'TH' as const }

t.test('newKeyAndSelfSigned: a loadable key and its certificate, for every hub algorithm', async (t) => {
  const notBefore = new Date('2030-01-01T00:00:00Z')
  for (const alg of HUB_ALGORITHMS) {
    const { keyPem, certPem } = newKeyAndSelfSigned({ alg, subject, days: 30, notBefore })
    const key = loadHubKey({ pem: keyPem + certPem, alg })
    t.equal(key.alg, alg)
    const cert = new X509Certificate(certPem)
    t.equal(key.certificate?.fingerprint256, cert.fingerprint256, `${alg}: the certificate holds the key`)
    t.ok(cert.verify(cert.publicKey), `${alg}: self-signature verifies`)
    // node prints the comma escaped, as RFC 4514 does.
    t.equal(cert.subject, `C=TH\nO=Hub Operator\\, Ltd.\nOU=IT\nCN=${subject.CN}`, `${alg}: subject (Thai and a comma survive)`)
    t.equal(subjectFields(cert).CN, subject.CN)
    t.equal(new Date(cert.validFrom).getTime(), notBefore.getTime())
    t.equal(new Date(cert.validTo).getTime() - notBefore.getTime(), 30 * DAY, `${alg}: valid for the days asked`)
    t.notOk(cert.ca, 'not a CA')
    t.match(keyPem, /^-----BEGIN PRIVATE KEY-----/, 'unencrypted PKCS#8')
  }
  t.throws(() => newKeyAndSelfSigned({ alg: 'ES256', subject, days: 0 }), RangeError)
})

t.test('RSA keys are 2048 bits unless asked for 3072', async (t) => {
  const { keyPem } = newKeyAndSelfSigned({ alg: 'RS256', subject, days: 1 })
  t.equal(loadHubKey({ pem: keyPem }).publicKey.asymmetricKeyDetails?.modulusLength, 2048)
  const big = newKeyAndCsr({ alg: 'PS256', subject, rsaBits: 3072 })
  t.equal(loadHubKey({ pem: big.keyPem, alg: 'PS256' }).publicKey.asymmetricKeyDetails?.modulusLength, 3072)
})

t.test('openssl reads the certificates and accepts the CSRs', async (t) => {
  const dir = t.testdir()
  for (const alg of HUB_ALGORITHMS) {
    const { certPem } = newKeyAndSelfSigned({ alg, subject, days: 10 })
    writeFileSync(join(dir, `${alg}.crt`), certPem)
    const text = execFileSync('openssl', ['x509', '-in', join(dir, `${alg}.crt`), '-noout', '-text'], { encoding: 'utf8' })
    t.match(text, /Key Usage: critical\s+Digital Signature, Non Repudiation/, `${alg}: key usage`)
    execFileSync('openssl', ['verify', '-CAfile', join(dir, `${alg}.crt`), '-partial_chain', join(dir, `${alg}.crt`)], { stdio: 'pipe' })

    const { keyPem, csrPem } = newKeyAndCsr({ alg, subject })
    writeFileSync(join(dir, `${alg}.csr`), csrPem)
    const out = execFileSync('openssl', ['req', '-in', join(dir, `${alg}.csr`), '-noout', '-verify', '-subject', '-nameopt', 'utf8,sep_comma_plus'], { encoding: 'utf8', stdio: 'pipe' })
    t.match(out, /C=TH,O=Hub Operator, Ltd\.,OU=IT,CN=ศูนย์แลกเปลี่ยนข้อมูล egif-hub/, `${alg}: CSR subject`)
    const csrKey = execFileSync('openssl', ['req', '-in', join(dir, `${alg}.csr`), '-noout', '-pubkey'], { encoding: 'utf8' })
    t.equal(csrKey, loadHubKey({ pem: keyPem, alg }).publicKey.export({ type: 'spki', format: 'pem' }).toString(), `${alg}: the CSR holds the key`)
  }
})
