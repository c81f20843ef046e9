import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
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

/**
 * Answers a request that Node's HTTP parser refused before fastify saw it (a header section
 * over Node's limit, a malformed request line or header, a request that did not arrive in time)
 * with a problem document like every other refusal, then closes the connection (what follows on
 * it cannot be read as requests). Fastify's own answer is JSON without a code.
 */
export function answerClientError (err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const hubErr = err.code === 'HPE_HEADER_OVERFLOW'
    ? new HubError('EGIF_ERR_HEADERS_TOO_LARGE', 'the request\'s header section is larger than the hub accepts (Node\'s --max-http-header-size: 16 KiB unless set)')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new HubError('EGIF_ERR_REQUEST_TIMEOUT', 'the request did not arrive whole in time')
      : new HubError('EGIF_ERR_BAD_REQUEST', `the request is not valid HTTP/1.1 (${err.code ?? 'parse error'}: ${(err as { reason?: string }).reason ?? err.message})`)
  if (socket.writable) {
    const body = JSON.stringify(problemOf(hubErr))
    socket.write(`HTTP/1.1 ${hubErr.status} ${STATUS_CODES[hubErr.status] ?? ''}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
