import type { TLSSocket } from 'node:tls'
import type { FastifyRequest } from 'fastify'
import { HubError } from '../errors.js'
import type { ParticipantRegistry, Principal } from '../registry/participants.js'

/**
 * Authenticates a request: `Authorization: Bearer <api key>`, or a TLS client certificate that
 * the hub's TLS listener verified against the configured client CAs and that is mapped to a
 * participant. A bearer key wins when both are present, so a gateway that terminates TLS can
 * still pass per-agency keys.
 */
export function authenticate (req: FastifyRequest, participants: ParticipantRegistry): Principal {
  const auth = req.headers.authorization
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S{8,512})$/i.exec(auth)
    if (m === null) throw new HubError('EGIF_ERR_AUTH_INVALID', 'Authorization must be "Bearer <api key>"')
    return participants.byApiKey(m[1])
  }
  const socket = req.raw.socket as Partial<TLSSocket>
  if (typeof socket.getPeerCertificate === 'function') {
    const cert = socket.getPeerCertificate()
    if (cert !== undefined && cert !== null && Object.keys(cert).length > 0) {
      if (socket.authorized !== true) {
        throw new HubError('EGIF_ERR_AUTH_INVALID', `the client certificate was not issued by a trusted CA (${String(socket.authorizationError ?? 'unverified')})`)
      }
      return participants.byCertificateFingerprint(cert.fingerprint256)
    }
  }
  throw new HubError('EGIF_ERR_AUTH_MISSING')
}
