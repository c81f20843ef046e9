import type { FastifyInstance } from 'fastify'

/** The directory: who can be reached and which document types the hub knows. */
export async function directoryRoutes (app: FastifyInstance): Promise<void> {
  const hub = app.hub
  app.get('/v1/participants', async (req) => {
    req.principal()
    return { participants: hub.participants.info() }
  })
  app.get('/v1/document-types', async (req) => {
    req.principal()
    return { documentTypes: hub.types.info() }
  })
}
