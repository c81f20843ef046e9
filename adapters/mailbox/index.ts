import { defineAdapter } from '../../src/adapters-sdk/index.js'

/**
 * `mailbox`: pull delivery. The message waits in the receiver's mailbox until the receiver fetches
 * it (`GET /v1/inbox/{id}`) and acknowledges it (`POST /v1/inbox/{id}/ack`); an un-acked message stays.
 */
export default defineAdapter<Record<string, never>>({
  name: 'mailbox',
  description: 'Keep the message in the receiver\'s mailbox until it fetches and acknowledges it (pull).',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  async deliver (msg, ctx) {
    await ctx.services.putInMailbox(msg)
  }
})
