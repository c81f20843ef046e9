import { defineConformance } from '../../conformance/adapters/index.js'
import mailbox from './index.js'

/** The conformance subject of `mailbox`: the hub's mailbox service, idempotent by message id. */
export default defineConformance<Record<string, never>>({
  adapter: mailbox,
  config: {},
  peer: async () => {
    const box = new Map<string, unknown>()
    let fail = false
    return {
      config: {},
      // The mailbox is the hub's own store: it cannot hang or refuse a message for good.
      behaviours: ['accept', 'transient'],
      behave: (b) => { fail = b === 'transient' },
      held: async () => box.size,
      services: {
        putInMailbox: async (msg) => {
          if (fail) {
            const { TransientDeliveryError } = await import('../../src/adapters-sdk/index.js')
            throw new TransientDeliveryError('the store is unavailable', { code: 'EGIF_ERR_STORAGE_UNAVAILABLE' })
          }
          box.set(`${msg.routing.sender}/${msg.routing.messageId}`, msg)
        }
      },
      close: async () => {}
    }
  }
})
