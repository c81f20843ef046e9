import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'
import { HubError, isHubError } from '../errors.js'
import type { Principal } from '../registry/participants.js'
import { authenticate } from './auth.js'
import { answerClientError, fromFastifyError, sendProblem } from './problem.js'
import { RouteMethods } from './route-methods.js'
import type { Hub } from '../hub.js'
import { messageRoutes } from './routes/messages.js'
import { inboxRoutes } from './routes/inbox.js'
import { directoryRoutes } from './routes/directory.js'
import { auditRoutes } from './routes/audit.js'
import { adminRoutes } from './routes/admin.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub
  }
  interface FastifyRequest {
    principal: () => Principal
  }
}

export interface AppOptions {
  logger?: Logger | false
  https?: FastifyServerOptions['https' & keyof FastifyServerOptions]
  /** TLS options for the listener (see `main.ts`); undefined for plain HTTP. */
  tls?: { key: Buffer, cert: Buffer, ca?: Buffer[] }
}

/**
 * Builds the HTTP API around a hub. Never listens: tests inject requests, `main.ts` listens.
 */
export function buildApp (hub: Hub, opts: AppOptions = {}): FastifyInstance {
  const tls = opts.tls
  const app = Fastify({
    loggerInstance: opts.logger === false || opts.logger === undefined ? undefined : opts.logger,
    bodyLimit: hub.config.limits.maxBodyBytes,
    // Fastify's default is no limit: a client sending its body a byte at a time would hold its
    // connection for ever. Node's own limit on the headers (60 s) stays.
    requestTimeout: hub.config.limits.requestTimeoutMs,
    // Message ids may be 128 characters; leave room for the rest of the path.
    routerOptions: { maxParamLength: 256 },
    // One log line per request would double the log volume at load; problems are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // What fastify and Node's parser refuse before a route runs is a problem document too.
    frameworkErrors: (err, _req, reply) => { void sendProblem(reply, new HubError('EGIF_ERR_BAD_REQUEST', err.message)) },
    clientErrorHandler: answerClientError,
    ...(tls !== undefined
      ? { https: { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false } }
      : {})
  }) as unknown as FastifyInstance
  app.decorate('hub', hub)
  app.decorateRequest('principal', function (this: FastifyRequest) {
    return authenticate(this, hub.participants)
  })

  // Bodies are kept as the exact bytes received: the hub never re-serialises a document.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

  app.setErrorHandler((err, req, reply) => {
    const hubErr = isHubError(err) ? err : fromFastifyError(err as { code?: string, statusCode?: number, message: string })
    if (hubErr.status >= 500) req.log.error({ err }, 'request failed')
    return sendProblem(reply, hubErr)
  })
  const methods = new RouteMethods()
  app.addHook('onRoute', (route) => { methods.add(route.url, route.method) })
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]
    const allowed = methods.allowed(path)
    if (allowed.length === 0) return sendProblem(reply, new HubError('EGIF_ERR_NOT_FOUND', `no route ${req.method} ${path}`))
    void reply.header('allow', allowed.join(', '))
    return sendProblem(reply, new HubError('EGIF_ERR_METHOD_NOT_ALLOWED', `${path} answers ${allowed.join(', ')}, not ${req.method}`))
  })

  app.get('/health', async () => ({ status: 'ok' }))
  app.get('/ready', async (_req, reply) => {
    const r = hub.readiness()
    return reply.code(r.ready ? 200 : 503).send(r)
  })
  app.get('/.well-known/jwks.json', async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(hub.jwks()))

  void app.register(messageRoutes)
  void app.register(inboxRoutes)
  void app.register(directoryRoutes)
  void app.register(auditRoutes)
  void app.register(adminRoutes)
  return app
}
