export { defineAdapter } from './types.js'
export type { Adapter, DeliveryContext, HubServices, RoutingHeader, StandardMessage } from './types.js'
export { PermanentDeliveryError, TransientDeliveryError } from './errors.js'
export { routingHeaders } from './headers.js'
