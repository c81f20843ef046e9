import type { JournalRecord, MessageEvent, MessageMeta, MessageState, Receipt, StoredMessage } from './types.js'
import type { WriteOptions } from './flush-schedule.js'

export interface AcceptResult {
  message: StoredMessage
  /** True when the same id and bytes were accepted before: the caller answers 200 with the original receipt. */
  duplicate: boolean
}

/** What the hub signs for a new message: its receipt and its seal. */
export interface AcceptRecord {
  receipt: Receipt
  seal: string
}

export interface MessageProgress {
  state: MessageState
  attempts: number
}

export interface InboxPage {
  messages: StoredMessage[]
  /** Opaque cursor of the next page, when there is one: pass it as `after`. */
  next?: string
}

export type RejectionFields = Omit<Extract<JournalRecord, { t: 'rejected' }>, 't' | 'seq'>

export interface AddEventOptions extends WriteOptions {
  /**
   * Add the event only if the message is in this state when it is written, in one step with the
   * write whatever the concurrency (every process sharing the store); otherwise nothing is written
   * and `addEvent` throws EGIF_ERR_NOT_FOUND (its `state`: the state the message is in). An
   * acknowledgement: only one `acked` event, however many acks arrive at once.
   */
  onlyIn?: MessageState
}

/**
 * Where the hub keeps messages, their events and bodies. Implementations: the journal in the data
 * directory (embedded mode) and Redis (cluster mode, shared by every hub process). Both pass
 * `test/store/contract.ts`.
 *
 * In the contract: `accept` is durable when it resolves and stores a sender's message id once,
 * whatever the concurrency (same bytes → duplicate, other bytes → EGIF_ERR_IDEMPOTENCY_CONFLICT);
 * `addEvent` applies events in order and moves the state as `applyEvent` says; reads see every
 * resolved write, from any process sharing the store.
 *
 * Not in the contract: the order of `undelivered` and `deadLetters`.
 */
export interface MessageStore {
  get: (sender: string, messageId: string) => Promise<StoredMessage | undefined>
  /**
   * A message's state and attempts alone, as `get` would give them: for a caller that needs no
   * more (in cluster mode `get` reads the body and every event too).
   */
  progress: (sender: string, messageId: string) => Promise<MessageProgress | undefined>
  /** Every message with this id, whichever sender chose it. */
  withId: (messageId: string) => Promise<StoredMessage[]>
  /**
   * Stores a new message durably, or recognises a duplicate.
   * @param makeRecord builds the receipt and seal; called only when the message is new to this
   *   store, as far as it can tell: in cluster mode another process may store the same message
   *   between the call and the write, and the result is then a `duplicate` although the record
   *   was made (two at once in one process never are).
   * @throws HubError EGIF_ERR_IDEMPOTENCY_CONFLICT, EGIF_ERR_STORAGE_UNAVAILABLE
   */
  accept: (meta: MessageMeta, body: Uint8Array, makeRecord: () => Promise<AcceptRecord>) => Promise<AcceptResult>
  /**
   * Appends an event and applies it; resolves once it is durable, with the message after it.
   * `linger`: nobody waits for the event but the caller (a delivery's outcome), so a store that
   * writes in batches may hold it a few milliseconds to go with other writes. `onlyIn`: see
   * {@link AddEventOptions}.
   */
  addEvent: (sender: string, messageId: string, event: MessageEvent, deliveredReceipt?: Receipt, opts?: AddEventOptions) => Promise<StoredMessage>
  /**
   * Keeps a delivered receipt signed after its delivery (a push delivery records none: it is
   * signed when first asked for). Resolves with the receipt the message holds afterwards: one kept
   * before for the same delivery wins (another request, another hub process), so every reader
   * gets the same receipt; one for an earlier delivery than the receipt held is not kept.
   * @throws HubError EGIF_ERR_NOT_FOUND, EGIF_ERR_STORAGE_UNAVAILABLE
   */
  keepDeliveredReceipt: (sender: string, messageId: string, receipt: Receipt) => Promise<Receipt>
  /** Records a refused request (metadata only, never the body). */
  recordRejection: (fields: RejectionFields) => Promise<void>
  bodyOf: (msg: StoredMessage) => Promise<Buffer>
  /** Messages waiting in a participant's mailbox, oldest first, a page at a time. */
  inbox: (receiver: string, page?: { after?: string, limit?: number }) => Promise<InboxPage>
  /** Messages still to deliver (state queued). */
  undelivered: () => Promise<StoredMessage[]>
  deadLetters: () => Promise<StoredMessage[]>
  /**
   * Removes the stored bodies of messages that are settled (delivered, acked or dead-lettered) and
   * were received before `before`; their metadata, events and receipts stay. Returns how many.
   * The embedded store drops bodies a journal segment at a time, once every body in the segment
   * qualifies, and never from the segment being written.
   */
  expireBodies: (before: Date) => Promise<number>
  /** False while the store cannot take writes (storage or connection lost). */
  ready: () => boolean
  stats: () => Promise<{ messages: number, rejections: number }>
  close: () => Promise<void>
}
