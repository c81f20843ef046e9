import type { Receipt, SenderSignature } from '../store/types.js'

/** The fields the hub's delivery seal covers (DESIGN §1). */
export interface SealFields {
  messageId: string
  sender: string
  receiver: string
  documentType: string
  documentVersion: string
  digest: string
  acceptedAt: string
  senderSignature: SenderSignature
}

/** What intake and delivery need from the hub's key: signed receipts and seals. */
export interface HubSigner {
  signReceipt: (receipt: Omit<Receipt, 'signature'>) => string
  seal: (fields: SealFields) => string
}
