import t from 'tap'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DocumentTypeFolder } from './helpers/document-type-folder.js'

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const type = new DocumentTypeFolder(join(repo, 'schemas/gov-letter'))
t.teardown(() => type.dispose())

const base = readFileSync(join(type.dir, 'samples/valid/minimal.xml'), 'utf8')
const valid = (xml: string): boolean => type.validate(Buffer.from(xml, 'utf8'), '1.0').valid
const DS = 'http://www.w3.org/2000/09/xmldsig#'

t.test('the base sample is valid', async (t) => {
  t.ok(valid(base))
  t.match(base, /<LetterID>อก 0905\/0007<\/LetterID>/)
})

t.test('letter numbers', async (t) => {
  const withNumber = (n: string): string => base.replace('<LetterID>อก 0905/0007</LetterID>', `<LetterID>${n}</LetterID>`)
  const accepted = [
    'อก 0905/0007', // ministry prefix, agency code, running number
    'กต 0201/ว123', // circular letter, ว joined to the number
    'นร 1008/ว 12', // circular letter, ว then a space
    'กค 0702.3/4567', // sub-unit code after the agency code
    'ศธ 04002/1234', // five-digit agency code
    'สลค 0503/ว 89', // three-letter prefix
    'นร ๑๐๐๘/ว ๓', // Thai digits
    'กค0702/45', // no space after the prefix
    '  มท 0808.2/ว 5010  ' // surrounding white space is collapsed (xs:token)
  ]
  const refused = [
    '0905/0007', // no prefix
    'AB 0905/0007', // Latin prefix
    'ที่ อก 0905/0007', // "ที่" belongs to the printed letter, not to the number
    'อก 0905', // no running number
    'อก 0905/', // empty running number
    'อก 0905/ว', // circular mark without a number
    'อก 9/0007', // agency code too short
    'อก 0905/1234567', // running number too long
    'อก 0905/0007/2569', // year suffix
    'อก-0905/0007' // hyphen instead of a space
  ]
  for (const n of accepted) t.ok(valid(withNumber(n)), `accepts "${n}"`)
  for (const n of refused) t.notOk(valid(withNumber(n)), `refuses "${n}"`)
})

t.test('an XML signature may close the document', async (t) => {
  const end = '</GovernmentDocument>'
  const withTail = (tail: string): string => base.replace(end, `${tail}\n${end}`)
  const signature = [
    `<ds:Signature xmlns:ds="${DS}" Id="sig-1">`,
    '<ds:SignedInfo>',
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>',
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>',
    '<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>',
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ds:DigestValue></ds:Reference>',
    '</ds:SignedInfo>',
    '<ds:SignatureValue>AAAA</ds:SignatureValue>',
    '<ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIB</ds:X509Certificate></ds:X509Data></ds:KeyInfo>',
    '%OBJECT%',
    '</ds:Signature>'
  ].join('\n')
  const xades = '<ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig-1"><xades:SignedProperties Id="sp-1"/></xades:QualifyingProperties></ds:Object>'

  t.ok(valid(withTail(signature.replace('%OBJECT%', ''))), 'XMLDSig as the last child')
  t.ok(valid(withTail(signature.replace('%OBJECT%', xades))), 'XAdES-BES (QualifyingProperties in ds:Object) as the last child')
  t.notOk(valid(withTail(signature.replace('%OBJECT%', '') + signature.replace('%OBJECT%', '').replace('sig-1', 'sig-2'))), 'two signatures')
  t.notOk(valid(base.replace('<MainLetter', `${signature.replace('%OBJECT%', '')}\n  <MainLetter`)), 'a signature before the letter')
  t.notOk(valid(withTail('<Signature/>')), 'a Signature outside the XMLDSig namespace')
  t.notOk(valid(withTail('<x:Extension xmlns:x="urn:example:extension"/>')), 'an element of another namespace')
})

t.test('the root may carry an Id for a signature reference', async (t) => {
  const root = '<GovernmentDocument xmlns="urn:th:go:egif:gov-letter:1" version="1.0">'
  t.ok(base.includes(root), 'the base sample has the expected root start tag')
  const withId = (id: string): string => base.replace(root, root.replace('>', ` Id="${id}">`))
  t.ok(valid(withId('letter-1')), 'an NCName id')
  t.notOk(valid(withId('1-letter')), 'an id that is not an NCName')
})

t.test('secrecy and urgency codes', async (t) => {
  for (const code of ['1', '2', '3', '4']) {
    t.ok(valid(base.replace('<SecretCode>1</SecretCode>', `<SecretCode>${code}</SecretCode>`)), `SecretCode ${code}`)
    t.ok(valid(base.replace('<SpeedCode>1</SpeedCode>', `<SpeedCode>${code}</SpeedCode>`)), `SpeedCode ${code}`)
  }
  for (const code of ['0', '5', 'ลับ', 'ด่วน', '']) {
    t.notOk(valid(base.replace('<SecretCode>1</SecretCode>', `<SecretCode>${code}</SecretCode>`)), `SecretCode "${code}"`)
    t.notOk(valid(base.replace('<SpeedCode>1</SpeedCode>', `<SpeedCode>${code}</SpeedCode>`)), `SpeedCode "${code}"`)
  }
})
