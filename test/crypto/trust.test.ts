import t from 'tap'
import { checkPresentedCertificate, subjectFields } from '../../src/crypto/trust.js'
import { daysFromNow, newCa, newSigner } from '../helpers/jose-pki.js'

t.test('registered certificates: valid, expired, unknown', async (t) => {
  const now = new Date()
  const a = newSigner('p256', { subject: { CN: 'a', O: 'A', C: 'TH' }, notBefore: daysFromNow(-1), notAfter: daysFromNow(10) })
  const old = newSigner('p256', { subject: { CN: 'a-old', O: 'A', C: 'TH' }, notBefore: daysFromNow(-20), notAfter: daysFromNow(-10) })
  const other = newSigner('p256', { subject: { CN: 'x', O: 'X', C: 'TH' } })
  const trust = { certificates: [a.cert, old.cert], authorities: [] }
  t.equal(checkPresentedCertificate(a.cert, trust, now), 'registered')
  t.throws(() => checkPresentedCertificate(old.cert, trust, now), { code: 'EGIF_ERR_SIGNATURE_CERT_NOT_VALID' })
  t.equal(checkPresentedCertificate(old.cert, trust, daysFromNow(-15)), 'registered', 'valid at the time it is checked for')
  t.throws(() => checkPresentedCertificate(other.cert, trust, now), { code: 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY' })
})

t.test('a CA binding accepts a renewed certificate with the bound subject, and nothing else', async (t) => {
  const ca = newCa()
  const otherCa = newCa()
  const subject = { CN: 'e-Tax signer', O: 'Revenue Department, Ministry of Finance', C: 'TH' }
  const trust = { certificates: [], authorities: [{ ca: ca.cert, subject: { O: 'Revenue Department, Ministry of Finance', C: 'TH' } }] }
  const first = ca.issue(subject, 'p256', { notBefore: daysFromNow(-1), notAfter: daysFromNow(30) })
  const renewed = ca.issue(subject, 'rsa2048', { notBefore: daysFromNow(-1), notAfter: daysFromNow(400) })
  t.same(subjectFields(first.cert).O, 'Revenue Department, Ministry of Finance', 'an escaped comma in the subject is read back')
  t.equal(checkPresentedCertificate(first.cert, trust, new Date()), 'ca')
  t.equal(checkPresentedCertificate(renewed.cert, trust, new Date()), 'ca', 'a renewal works without reconfiguration')
  const wrongOrg = ca.issue({ CN: 'e-Tax signer', O: 'Someone Else', C: 'TH' }, 'p256')
  t.throws(() => checkPresentedCertificate(wrongOrg.cert, trust, new Date()), { code: 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY' }, 'another subject from the same CA')
  const forged = otherCa.issue(subject, 'p256')
  t.throws(() => checkPresentedCertificate(forged.cert, trust, new Date()), { code: 'EGIF_ERR_SIGNATURE_UNTRUSTED_KEY' }, 'the same subject from another CA')
  const expired = ca.issue(subject, 'p256', { notBefore: daysFromNow(-20), notAfter: daysFromNow(-1) })
  t.throws(() => checkPresentedCertificate(expired.cert, trust, new Date()), { code: 'EGIF_ERR_SIGNATURE_CERT_NOT_VALID' })
})

t.test('Thai subjects are read as text', async (t) => {
  const s = newSigner('p256', { subject: { CN: 'ผู้ลงนาม', O: 'กรมสรรพากร', C: 'TH' } })
  t.equal(subjectFields(s.cert).O, 'กรมสรรพากร')
  t.equal(subjectFields(s.cert).CN, 'ผู้ลงนาม')
})
