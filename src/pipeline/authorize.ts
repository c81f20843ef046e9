import { HubError } from '../errors.js'
import type { RouteTable } from '../registry/participants.js'
import type { Routing } from './context.js'

/** Stage: a route must allow this sender to send this type to this receiver. */
export function authorizeRoute (routing: Routing, type: string, routes: RouteTable): void {
  const { sender, receiver } = routing
  if (!routes.allows(sender, receiver, type)) {
    throw new HubError('EGIF_ERR_ROUTE_NOT_ALLOWED', `no route lets ${sender} send ${type} to ${receiver}`)
  }
}
