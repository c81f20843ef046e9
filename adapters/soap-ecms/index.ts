import { existsSync } from 'node:fs'
import { defineAdapter, sleep, submitFailure, PermanentDeliveryError, type InboundContext } from '../../src/adapters-sdk/index.js'
import { HubError } from '../../src/errors.js'
import { asDeliveryError, soapCall } from './client.js'
import { call, itemToStandard, outboundCall, readAck, readItem, readList, wsaMessageId, type EcmsItem, type SoapEcmsConfig } from './operations.js'
import { fields } from './soap.js'

export type { SoapEcmsConfig } from './operations.js'
export { outboundCall, itemToStandard } from './operations.js'

/** The folder of the `ecms-notification` document type, for `documentTypes.folders`. */
// Beside this file in the sources; from a build (dist/adapters/soap-ecms/), in the sources' folder.
export const NOTIFICATION_TYPE_FOLDER = [new URL('./types/ecms-notification/', import.meta.url), new URL('../../../adapters/soap-ecms/types/ecms-notification/', import.meta.url)]
  .find((u) => existsSync(u)) ?? new URL('./types/ecms-notification/', import.meta.url)

async function poll (ctx: InboundContext<SoapEcmsConfig>): Promise<void> {
  const cfg = ctx.config
  const me = ctx.participant
  const stamp = new Date().toISOString()
  const list = await soapCall(cfg, call(cfg, 'GetDocumentList', `urn:egif:GetDocumentList:${encodeURIComponent(me)}:${stamp}`, `    <ecms:GetDocumentListRequest>\n${fields([['Agency', me]])}\n    </ecms:GetDocumentListRequest>`), 'GetDocumentListResponse', ctx.signal)
  for (const entry of list === null ? [] : readList(list)) {
    if (ctx.signal.aborted) return
    const got = await soapCall(cfg, call(cfg, 'GetDocument', wsaMessageId(me, entry.id, 'GetDocument'), `    <ecms:GetDocumentRequest>\n${fields([['ID', entry.id]])}\n    </ecms:GetDocumentRequest>`), 'GetDocumentResponse', ctx.signal)
    if (got === null) continue
    const item = readItem(got)
    let ack: { processId: string, processTime: string, status: 'Accepted' | 'Refused' }
    try {
      const r = await ctx.submit(itemToStandard(item))
      ack = { processId: `${r.receipt.sender}/${r.receipt.messageId}`, processTime: r.receipt.receivedAt, status: 'Accepted' }
      ctx.log.info({ item: item.id, messageId: item.messageId, status: r.status }, 'submitted')
    } catch (err) {
      const f = submitFailure(err)
      // The hub cannot take it now: leave it in the outbox for the next poll.
      if (f.retry) { ctx.log.warn({ item: item.id, code: f.code }, 'the hub cannot take the item now'); return }
      await notifyInvalid(ctx, item, `${f.code}: ${f.detail}`)
      ack = { processId: `refused/${item.id}`, processTime: new Date().toISOString(), status: 'Refused' }
    }
    await soapCall(cfg, call(cfg, 'DeleteDocument', wsaMessageId(me, item.id, 'DeleteDocument'), `    <ecms:DeleteDocumentRequest>\n${fields([['ID', item.id], ['Status', ack.status], ['ProcessID', ack.processId], ['ProcessTime', ack.processTime]])}\n    </ecms:DeleteDocumentRequest>`), 'DeleteDocumentResponse', ctx.signal)
  }
}

/** Tells the correspondence system that the hub refused one of its items, and why. */
async function notifyInvalid (ctx: InboundContext<SoapEcmsConfig>, item: EcmsItem, reason: string): Promise<void> {
  const cfg = ctx.config
  const body = `    <ecms:InvalidNotification>\n${fields([['ID', item.id], ['MessageID', item.messageId], ['Reason', reason.slice(0, 1000)], ['NotifiedAt', new Date().toISOString()]])}\n    </ecms:InvalidNotification>`
  await soapCall(cfg, call(cfg, 'InvalidNotification', wsaMessageId(ctx.participant, item.id, 'InvalidNotification'), body), 'NotificationResponse', ctx.signal)
}

/**
 * `soap-ecms`: the government e-correspondence exchange. SOAP 1.1 over HTTP with WS-Addressing.
 * Outbound: a letter becomes `SendDocumentRequest`, a notification its notifier; the answer is an
 * acknowledgement with a process id and time. Inbound: the system's outbox is polled
 * (`GetDocumentList`, `GetDocument`), each item submitted and then deleted (`DeleteDocument`,
 * with the hub's process id and time); a refused item is reported with `InvalidNotification`.
 */
export default defineAdapter<SoapEcmsConfig, any>({
  name: 'soap-ecms',
  description: 'Exchange letters and notifications with a government e-correspondence (ECMS) system over SOAP 1.1 with WS-Addressing.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      to: { type: 'string', minLength: 1 },
      addressing: { enum: ['standard', 'misspelled'], default: 'standard' },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      pollMs: { type: 'integer', minimum: 10, default: 5000 }
    }
  },
  fromStandard: (msg, config) => outboundCall(msg, config).envelope,
  toStandard: (item: EcmsItem) => itemToStandard(item),
  async deliver (msg, ctx) {
    let c
    try {
      c = outboundCall(msg, ctx.config)
    } catch (err) {
      throw new PermanentDeliveryError((err as Error).message, { code: err instanceof HubError ? err.code : 'EGIF_ERR_ADAPTER_MAPPING', cause: err })
    }
    const expect = c.action.endsWith('/SendDocument') ? 'SendDocumentResponse' : 'NotificationResponse'
    const answer = await soapCall(ctx.config, c, expect, ctx.signal)
    if (answer === null) {
      ctx.log.info('the correspondence system already had this message: delivered')
      return
    }
    try {
      const ack = readAck(answer)
      ctx.log.info({ processId: ack.processId, processTime: ack.processTime }, 'acknowledged')
    } catch (err) {
      throw asDeliveryError(err)
    }
  },
  async runInbound (ctx) {
    while (!ctx.signal.aborted) {
      try {
        await poll(ctx)
      } catch (err) {
        if (!ctx.signal.aborted) ctx.log.warn({ err }, 'polling the correspondence system failed; trying again')
      }
      await sleep(ctx.config.pollMs, ctx.signal)
    }
  }
})
