import type { MessageEvent, MessageMeta, MessageState, Receipt, StoredMessage } from './types.js'

/** The state an event leads to. */
export function nextState (current: MessageState, ev: MessageEvent['type']): MessageState {
  switch (ev) {
    case 'delivered': return 'delivered'
    case 'in-mailbox': return 'in-mailbox'
    case 'acked': return 'acked'
    case 'dead-lettered': return 'dead-lettered'
    case 'replayed': return 'queued'
    default: return current
  }
}

/** A message as it is right after acceptance. */
export function newMessage (meta: MessageMeta, receipt: Receipt, seal: string): StoredMessage {
  return { ...meta, state: 'queued', attempts: 0, events: [{ type: 'accepted', at: meta.receivedAt }], receipt, seal }
}

/** Applies one event to a message in place: the one state machine both stores use. */
export function applyEvent (m: StoredMessage, event: MessageEvent, deliveredReceipt?: Receipt): void {
  m.events.push(event)
  m.state = nextState(m.state, event.type)
  if (event.attempt !== undefined) m.attempts = Math.max(m.attempts, event.attempt)
  if (event.type === 'replayed') m.attempts = 0
  if (deliveredReceipt !== undefined) m.deliveredReceipt = deliveredReceipt
}

export function storeKey (sender: string, messageId: string): string {
  return `${sender}\u0000${messageId}`
}
