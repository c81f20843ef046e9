import { HubError } from '../errors.js'
import type { RouteTable } from '../registry/participants.js'
import type { IntakeState } from './context.js'

/** Stage: a route must allow this sender to send this type to this receiver. */
export function authorizeRoute (s: IntakeState, routes: RouteTable): void {
  const { sender, receiver } = s.routing
  if (!routes.allows(sender, receiver, s.type!.id)) {
    throw new HubError('EGIF_ERR_ROUTE_NOT_ALLOWED', `no route lets ${sender} send ${s.type!.id} to ${receiver}`)
  }
}
