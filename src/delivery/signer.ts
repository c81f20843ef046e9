import type { SealFields } from '../crypto/receipt.js'
import type { Receipt } from '../store/types.js'

export type { SealFields }

/** What intake and delivery need from the hub's key: signed receipts and seals. */
export interface HubSigner {
  signReceipt: (receipt: Omit<Receipt, 'signature'>) => string
  seal: (fields: SealFields) => string
}
