import { X509Certificate } from 'node:crypto'
import { HubError } from '../errors.js'

/**
 * What the hub trusts to sign for one participant: certificates registered for it (several, with
 * their own validity periods, for rotation) and CA bindings (any certificate issued by that CA whose
 * subject has the given fields, so a renewed certificate works without reconfiguration).
 */
export interface ParticipantTrust {
  certificates: X509Certificate[]
  authorities: CaBinding[]
}

export interface CaBinding {
  ca: X509Certificate
  /** Subject fields the end-entity certificate must carry exactly, e.g. `{ O: 'Revenue Department', C: 'TH' }`. */
  subject: Record<string, string>
}

export type TrustPath = 'registered' | 'ca'

export function emptyTrust (): ParticipantTrust {
  return { certificates: [], authorities: [] }
}

function validAt (cert: X509Certificate, at: Date): boolean {
  const t = at.getTime()
  return new Date(cert.validFrom).getTime() <= t && t <= new Date(cert.validTo).getTime()
}

/** Registered certificates valid at `at`: the keys to try when a signature names no certificate. */
export function certificatesValidAt (trust: ParticipantTrust, at: Date): X509Certificate[] {
  return trust.certificates.filter((c) => validAt(c, at))
}

/**
 * Parses an X.509 subject as node prints it (`CN=a\nO=b`, values escaped as in RFC 4514, e.g.
 * `O=Hub Operator\, Ltd.`), keeping the last value per field.
 */
export function subjectFields (cert: X509Certificate): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = unescapeDnValue(line.slice(eq + 1))
  }
  return out
}

/** Undoes RFC 4514 escaping: `\,` is a comma, `\E0\B8\81` the UTF-8 bytes of one character. */
function unescapeDnValue (value: string): string {
  if (!value.includes('\\')) return value
  const bytes: number[] = []
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (c === '\\' && i + 1 < value.length) {
      const hex = value.slice(i + 1, i + 3)
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16))
        i += 2
        continue
      }
      i++
      bytes.push(...Buffer.from(value[i], 'utf8'))
      continue
    }
    bytes.push(...Buffer.from(c, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

function matchesBinding (cert: X509Certificate, binding: CaBinding, at: Date): boolean {
  if (!validAt(binding.ca, at)) return false
  if (!cert.checkIssued(binding.ca) || !cert.verify(binding.ca.publicKey)) return false
  const fields = subjectFields(cert)
  return Object.entries(binding.subject).every(([k, v]) => fields[k] === v)
}

/**
 * Decides whether a certificate presented with a signature (in `X509Data`, `x5c`, or the XAdES
 * SigningCertificate) may sign for the participant at time `at`. The key a document carries is
 * never trusted for what it is: it must equal a registered certificate or chain to a bound CA.
 *
 * @throws HubError `EGIF_ERR_SIGNATURE_CERT_NOT_VALID` when it is registered or CA-issued but not
 *   valid at `at`; `EGIF_ERR_SIGNATURE_UNTRUSTED_KEY` when it is neither.
 */
export function checkPresentedCertificate (cert: X509Certificate, trust: ParticipantTrust, at: Date): TrustPath {
  const registered = trust.certificates.find((c) => c.fingerprint256 === cert.fingerprint256)
  if (registered !== undefined) {
    if (!validAt(registered, at)) {
      throw new HubError('EGIF_ERR_SIGNATURE_CERT_NOT_VALID', `certificate ${cert.subject.replace(/\n/g, ', ')} is valid from ${cert.validFrom} to ${cert.validTo}, not at ${at.toISOString()}`)
    }
    return 'registered'
  }
  for (const binding of trust.authorities) {
    if (matchesBinding(cert, binding, at)) {
      if (!validAt(cert, at)) {
        throw new HubError('EGIF_ERR_SIGNATURE_CERT_NOT_VALID', `certificate ${cert.subject.replace(/\n/g, ', ')} is valid from ${cert.validFrom} to ${cert.validTo}, not at ${at.toISOString()}`)
      }
      return 'ca'
    }
  }
  throw new HubError('EGIF_ERR_SIGNATURE_UNTRUSTED_KEY', 'the signing certificate is neither registered for the sender nor issued to it by a bound CA')
}
