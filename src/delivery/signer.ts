import type { SealFields } from '../crypto/receipt.js'
import type { Receipt } from '../store/types.js'
import type { WriteOptions } from '../store/flush-schedule.js'

export type { SealFields }

/**
 * What intake and delivery need from the hub's key: signed receipts and seals. Asynchronous, so an
 * implementation may sign elsewhere than on the event loop.
 */
export interface HubSigner {
  /** `linger`: nobody waits for this receipt, so an implementation that batches may hold it a few milliseconds. */
  signReceipt: (receipt: Omit<Receipt, 'signature'>, opts?: WriteOptions) => Promise<string>
  seal: (fields: SealFields) => Promise<string>
}
