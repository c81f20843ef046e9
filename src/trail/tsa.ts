import { createHash, randomBytes, verify as verifySignature, X509Certificate } from 'node:crypto'
import { HubError } from '../errors.js'
import { children, encode, encodeOid, encodeUnsignedInt, expectTag, oid, readTlv, seq, type Tlv } from './der.js'

/**
 * An RFC 3161 client: asks a time-stamping authority to stamp SHA-256 of some bytes (a
 * checkpoint's JWS), and checks a token offline: the imprint, the CMS signature over the signed
 * attributes, the message digest of the TSTInfo, and that the signer is a trusted authority.
 */
const SHA256 = '2.16.840.1.101.3.4.2.1'
const ID_SIGNED_DATA = '1.2.840.113549.1.7.2'
const ID_CT_TSTINFO = '1.2.840.113549.1.9.16.1.4'
const ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3'
const ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
const HASHES: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512'
}

/** The DER TimeStampReq for SHA-256 of `data`, asking for the authority's certificate. */
export function timestampRequest (data: Buffer, nonce: Buffer = randomBytes(8)): Buffer {
  const imprint = seq(seq(encodeOid(SHA256), Buffer.from([0x05, 0x00])), encode(0x04, createHash('sha256').update(data).digest()))
  return seq(encode(0x02, Buffer.from([1])), imprint, encodeUnsignedInt(nonce), Buffer.from([0x01, 0x01, 0xff]))
}

/**
 * Sends a TimeStampReq over HTTP (RFC 3161 §3.4) and returns the token (DER ContentInfo), checked
 * against the request.
 * @throws HubError EGIF_ERR_TRAIL_TSA when the authority refuses, cannot be reached or answers
 *   with a token that does not stamp these bytes.
 */
export async function requestTimestamp (url: string, data: Buffer, opts: { timeoutMs: number }): Promise<Buffer> {
  let res: Response
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(timestampRequest(data)), signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'error' })
  } catch (err) {
    throw new HubError('EGIF_ERR_TRAIL_TSA', `cannot reach the time-stamping authority ${url}: ${(err as Error).message}`)
  }
  if (!res.ok) throw new HubError('EGIF_ERR_TRAIL_TSA', `the time-stamping authority ${url} answered HTTP ${res.status}`)
  const body = Buffer.from(await res.arrayBuffer())
  try {
    const resp = children(expectTag(readTlv(body), 0x30, 'TimeStampResp'))
    const status = children(expectTag(resp[0], 0x30, 'PKIStatusInfo'))
    const code = expectTag(status[0], 0x02, 'PKIStatus').value.readUIntBE(0, status[0].value.length)
    if (code !== 0 && code !== 1) throw new Error(`the authority refused the request (status ${code})`)
    const token = expectTag(resp[1], 0x30, 'TimeStampToken').raw
    const copy = Buffer.from(token)
    verifyTimestampToken(copy, data, {})
    return copy
  } catch (err) {
    if (err instanceof HubError) throw err
    throw new HubError('EGIF_ERR_TRAIL_TSA', `the time-stamping authority ${url} answered with no valid token: ${(err as Error).message}`)
  }
}

export interface TimestampCheck {
  /** genTime of the token. */
  time: string
  /** The authority's certificate that signed the token. */
  signer: X509Certificate
}

/**
 * Checks an RFC 3161 token over `data`: the imprint is SHA-256 (or -384/-512) of the bytes, the
 * signed attributes carry the TSTInfo's digest and content type, and the signature verifies with a
 * certificate in the token. With `trusted`, that certificate must be one of them or issued by one.
 * @throws Error saying what is wrong.
 */
export function verifyTimestampToken (token: Buffer, data: Buffer, opts: { trusted?: readonly X509Certificate[] }): TimestampCheck {
  const ci = children(expectTag(readTlv(token), 0x30, 'ContentInfo'))
  if (oid(ci[0]) !== ID_SIGNED_DATA) throw new Error('the token is not CMS SignedData')
  const sd = children(expectTag(children(expectTag(ci[1], 0xa0, 'content'))[0], 0x30, 'SignedData'))
  const encap = children(expectTag(sd[2], 0x30, 'EncapsulatedContentInfo'))
  if (oid(encap[0]) !== ID_CT_TSTINFO) throw new Error('the token does not hold a TSTInfo')
  const eContent = expectTag(children(expectTag(encap[1], 0xa0, 'eContent'))[0], 0x04, 'eContent').value
  const tst = children(expectTag(readTlv(eContent), 0x30, 'TSTInfo'))
  const imprint = children(expectTag(tst[2], 0x30, 'MessageImprint'))
  const imprintHash = HASHES[oid(children(imprint[0])[0])]
  if (imprintHash === undefined) throw new Error('the imprint uses an unknown hash')
  if (!expectTag(imprint[1], 0x04, 'hashedMessage').value.equals(createHash(imprintHash).update(data).digest())) {
    throw new Error('the token stamps other bytes (message imprint differs)')
  }
  const genTime = parseGeneralizedTime(expectTag(tst[4], 0x18, 'genTime'))

  let rest = sd.slice(3)
  const certs: X509Certificate[] = []
  if (rest[0]?.tag === 0xa0) {
    for (const c of children(rest[0])) if (c.tag === 0x30) certs.push(new X509Certificate(c.raw))
    rest = rest.slice(1)
  }
  if (rest[0]?.tag === 0xa1) rest = rest.slice(1)
  const signerInfos = children(expectTag(rest[0], 0x31, 'signerInfos'))
  if (signerInfos.length !== 1) throw new Error('the token must have exactly one signer')
  const si = children(expectTag(signerInfos[0], 0x30, 'SignerInfo'))
  const digestAlg = HASHES[oid(children(si[2])[0])]
  if (digestAlg === undefined) throw new Error('the signer uses an unknown digest')
  const signedAttrs = expectTag(si[3], 0xa0, 'signedAttrs')
  let contentType: string | undefined
  let messageDigest: Buffer | undefined
  for (const a of children(signedAttrs)) {
    const [type, values] = children(a)
    const t = oid(type)
    const v = children(values)[0]
    if (t === ATTR_CONTENT_TYPE) contentType = oid(v)
    if (t === ATTR_MESSAGE_DIGEST) messageDigest = expectTag(v, 0x04, 'messageDigest').value
  }
  if (contentType !== ID_CT_TSTINFO) throw new Error('the signed content type is not TSTInfo')
  if (messageDigest === undefined || !messageDigest.equals(createHash(digestAlg).update(eContent).digest())) throw new Error('the signed message digest does not match the TSTInfo')
  const signature = expectTag(si[5], 0x04, 'signature').value
  // The signature is over the DER of the attributes as a SET (RFC 5652 §5.4), not as [0].
  const signedBytes = Buffer.concat([Buffer.from([0x31]), signedAttrs.raw.subarray(1)])
  const signer = certs.find((c) => {
    try { return verifySignature(digestAlg, signedBytes, c.publicKey, signature) } catch { return false }
  })
  if (signer === undefined) throw new Error('the token signature does not verify with any certificate it carries')
  if (opts.trusted !== undefined && opts.trusted.length > 0) {
    const ok = opts.trusted.some((t) => t.fingerprint256 === signer.fingerprint256 || (signer.checkIssued(t) && signer.verify(t.publicKey)))
    if (!ok) throw new Error(`the token is signed by ${signer.subject.replace(/\n/g, ', ')}, not by a trusted authority`)
  }
  return { time: genTime, signer }
}

function parseGeneralizedTime (t: Tlv): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(t.value.toString('ascii'))
  if (m === null) throw new Error('genTime is not a UTC GeneralizedTime')
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`).toISOString()
}
