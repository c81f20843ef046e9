import { createHash, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { HubError } from '../errors.js'
import type { HubConfig, ParticipantConfig, RouteConfig, Selector } from '../config/types.js'
import type { ParticipantTrust } from '../crypto/trust.js'

export type Role = 'participant' | 'auditor' | 'operator'

/** Who is calling, once authenticated. */
export interface Principal {
  id: string
  role: Role
  via: 'api-key' | 'client-certificate' | 'inbound-adapter'
}

export interface Participant {
  id: string
  name: { th?: string, en: string }
  delivery: ParticipantConfig['delivery']
  trust: ParticipantTrust
}

/** Public description for `GET /v1/participants`: never keys or hashes. */
export interface ParticipantInfo {
  id: string
  name: { th?: string, en: string }
  delivery: 'push' | 'pull'
  signingCertificates: Array<{ subject: string, fingerprint256: string, validFrom: string, validTo: string }>
}

export function hashApiKey (key: string): string {
  return 'sha256:' + createHash('sha256').update(key, 'utf8').digest('hex')
}

function readCertificate (file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(readFileSync(file))
  } catch (err) {
    throw new HubError('EGIF_ERR_CONFIG_REFERENCE', `${what}: cannot read certificate ${file} (${(err as Error).message})`)
  }
}

/**
 * Participants, auditors and their credentials. API keys are held only as SHA-256 hashes; a key is
 * found by hashing what the caller presents, so no stored key is ever compared in clear.
 */
export class ParticipantRegistry {
  private readonly participants = new Map<string, Participant>()
  private readonly keyOwners = new Map<string, Principal>()
  private readonly certOwners = new Map<string, string>()
  private readonly demo: boolean

  constructor (cfg: HubConfig) {
    this.demo = cfg.demo
    for (const p of cfg.participants) {
      const trust: ParticipantTrust = {
        certificates: p.signingCertificates.map((f) => readCertificate(f, `participant ${p.id}`)),
        authorities: p.signingAuthorities.map((a) => ({ ca: readCertificate(a.caFile, `participant ${p.id}`), subject: a.subject }))
      }
      this.participants.set(p.id, { id: p.id, name: p.name, delivery: p.delivery, trust })
      for (const h of p.apiKeys) this.addKey(h, { id: p.id, role: 'participant', via: 'api-key' })
      for (const c of p.clientCertificates) {
        const fp = c.includes(':') && !c.includes('/') ? c : readCertificate(c, `participant ${p.id}`).fingerprint256
        this.certOwners.set(fp, p.id)
      }
    }
    for (const o of cfg.operators) {
      for (const h of o.apiKeys) this.addKey(h, { id: o.id, role: 'operator', via: 'api-key' })
    }
    for (const a of cfg.auditors) {
      for (const h of a.apiKeys) this.addKey(h, { id: a.id, role: 'auditor', via: 'api-key' })
    }
  }

  private addKey (hash: string, who: Principal): void {
    const other = this.keyOwners.get(hash)
    if (other !== undefined) throw new HubError('EGIF_ERR_CONFIG_REFERENCE', `the same API key is configured for ${other.id} and ${who.id}`)
    this.keyOwners.set(hash, who)
  }

  /** Authenticates an API key. Demo keys (`demo-…`) only count in a configuration marked `demo`. */
  byApiKey (key: string): Principal {
    if (key.startsWith('demo-') && !this.demo) {
      throw new HubError('EGIF_ERR_AUTH_INVALID', 'demo API keys are accepted only by a configuration marked "demo: true"')
    }
    const hash = hashApiKey(key)
    // Looking up the hash of the presented key: timing reveals nothing about a stored key.
    const who = this.keyOwners.get(hash)
    if (who === undefined) throw new HubError('EGIF_ERR_AUTH_INVALID')
    return who
  }

  /** Authenticates a TLS client certificate by its SHA-256 fingerprint. */
  byCertificateFingerprint (fingerprint256: string): Principal {
    const id = this.certOwners.get(fingerprint256.toUpperCase())
    if (id === undefined) throw new HubError('EGIF_ERR_AUTH_INVALID', 'the client certificate is not mapped to a participant')
    return { id, role: 'participant', via: 'client-certificate' }
  }

  get (id: string): Participant | undefined {
    return this.participants.get(id)
  }

  list (): Participant[] {
    return [...this.participants.values()]
  }

  info (): ParticipantInfo[] {
    return this.list().map((p) => ({
      id: p.id,
      name: p.name,
      delivery: p.delivery.mode,
      signingCertificates: p.trust.certificates.map((c) => ({ subject: c.subject, fingerprint256: c.fingerprint256, validFrom: c.validFrom, validTo: c.validTo }))
    }))
  }
}

function matches (sel: Selector, id: string): boolean {
  if (Array.isArray(sel)) return sel.includes(id)
  return sel === '*' || sel === id
}

/** Which sender may send which document types to which receiver. Nothing is allowed unless a route says so. */
export class RouteTable {
  constructor (private readonly routes: RouteConfig[]) {}

  allows (sender: string, receiver: string, type: string): boolean {
    return this.routes.some((r) => matches(r.from, sender) && matches(r.to, receiver) && (r.types.includes('*') || r.types.includes(type)))
  }
}
