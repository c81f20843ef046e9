import { HubError } from '../../src/errors.js'
import { escapeXml, parseTree } from './soap.js'

export const NOTIFICATION_NS = 'urn:th:go:egif:ecms-notification:1'
export const NOTIFICATION_KINDS = ['Receive', 'Accept', 'Reject', 'Invalid'] as const
export type NotificationKind = typeof NOTIFICATION_KINDS[number]

/** What a correspondence system says about a letter it was sent (the `ecms-notification` document). */
export interface Notification {
  kind: NotificationKind
  /** The hub message id of the letter concerned. */
  letterMessageId: string
  /** The participant that sent the letter (and receives this notification). */
  letterSender: string
  /** The number the receiving agency registered the letter under (Accept). */
  receiverLetterId?: string
  /** Why (Reject, Invalid). */
  reason?: string
  notifiedAt: string
}

/** The `ecms-notification` 1.0 document for a notification. Pure. */
export function notificationXml (n: Notification): string {
  const f = (k: string, v: string | undefined): string => v === undefined ? '' : `  <${k}>${escapeXml(v)}</${k}>\n`
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Notification xmlns="${NOTIFICATION_NS}" version="1.0">\n` +
    f('Kind', n.kind) + f('LetterMessageID', n.letterMessageId) + f('LetterSender', n.letterSender) +
    f('ReceiverLetterID', n.receiverLetterId) + f('Reason', n.reason) + f('NotifiedAt', n.notifiedAt) +
    '</Notification>\n'
}

/** Reads an `ecms-notification` document (already validated by the hub) with the strict parsers. */
export function readNotification (bytes: Uint8Array): Notification {
  const root = parseTree(bytes)
  if (root.ns !== NOTIFICATION_NS || root.name !== 'Notification') throw new HubError('EGIF_ERR_ADAPTER_MAPPING', 'not an ecms-notification document')
  const get = (k: string): string | undefined => root.children.find((c) => c.name === k)?.text.trim()
  const kind = get('Kind') as NotificationKind
  if (!NOTIFICATION_KINDS.includes(kind)) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `unknown notification kind "${String(kind)}"`)
  return { kind, letterMessageId: get('LetterMessageID') ?? '', letterSender: get('LetterSender') ?? '', receiverLetterId: get('ReceiverLetterID'), reason: get('Reason'), notifiedAt: get('NotifiedAt') ?? '' }
}
