import type { FastifyReply } from 'fastify'
import { ERRORS, HubError, type ErrorCode } from '../errors.js'

/** RFC 9457 problem document for a HubError. `type` names the code, so clients can branch on either. */
export function problemOf (err: HubError, instance?: string): Record<string, unknown> {
  return {
    type: `urn:egif:error:${err.code}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    retryable: err.retry,
    ...(instance !== undefined ? { instance } : {}),
    ...err.extra
  }
}

export function sendProblem (reply: FastifyReply, err: HubError): FastifyReply {
  return reply.code(err.status).type('application/problem+json').send(problemOf(err, reply.request.url))
}

/** Maps fastify's own errors (body limit, bad content type, bad JSON) to catalogue codes. */
export function fromFastifyError (err: { code?: string, statusCode?: number, message: string }): HubError {
  const map: Record<string, ErrorCode> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'EGIF_ERR_BODY_TOO_LARGE',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'EGIF_ERR_MEDIA_TYPE',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'EGIF_ERR_BAD_REQUEST',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'EGIF_ERR_BODY_EMPTY',
    FST_ERR_VALIDATION: 'EGIF_ERR_BAD_REQUEST'
  }
  const code = err.code !== undefined ? map[err.code] : undefined
  if (code !== undefined) return new HubError(code, err.message)
  if (err.statusCode === 413) return new HubError('EGIF_ERR_BODY_TOO_LARGE', err.message)
  if (err.statusCode === 415) return new HubError('EGIF_ERR_MEDIA_TYPE', err.message)
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new HubError('EGIF_ERR_BAD_REQUEST', err.message)
  return new HubError('EGIF_ERR_INTERNAL')
}
