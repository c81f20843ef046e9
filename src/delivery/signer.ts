import type { SealFields } from '../crypto/receipt.js'
import type { Receipt } from '../store/types.js'

export type { SealFields }

/**
 * What intake and delivery need from the hub's key: signed receipts and seals. Asynchronous, so an
 * implementation may sign elsewhere than on the event loop.
 */
export interface HubSigner {
  signReceipt: (receipt: Omit<Receipt, 'signature'>) => Promise<string>
  seal: (fields: SealFields) => Promise<string>
}
