import { readlinkSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { isHubError } from '../errors.js'
import { DocumentTypeRegistry } from '../registry/document-types.js'
import { ParticipantRegistry } from '../registry/participants.js'
import type { CheckDeps } from './check-message.js'
import { checkMessage } from './check-message.js'
import type { CheckReplyMessage, CheckRequestMessage, CheckThreadData, CheckThreadStatus, SignRequestMessage } from './check-pool.js'
import { signReceiptJson } from '../crypto/receipt.js'
import { parseLimits } from './parse.js'
import { registeredVerifiers } from './verify-signature.js'

/**
 * A document-check thread (see `check-pool.ts`): builds the registries from the hub's
 * configuration once, then answers one check per message, in order, and signs the receipts it is
 * handed (with its copy of the hub key).
 */
const port = parentPort
if (port === null) throw new Error('check-thread.ts runs as a worker thread of the hub')
const data = workerData as CheckThreadData

let deps: CheckDeps
try {
  deps = {
    types: DocumentTypeRegistry.fromConfig(data.config, data.builtinSchemas),
    participants: new ParticipantRegistry(data.config),
    limits: parseLimits(data.config),
    verifiers: registeredVerifiers,
    ...(data.sealKey !== undefined ? { sealKey: data.sealKey } : {})
  }
  port.postMessage({ ready: true, ...ownTid() } satisfies CheckThreadStatus)
} catch (err) {
  const e = err as { code?: string, message?: string }
  port.postMessage({ bootError: { code: e.code ?? 'EGIF_ERR_INTERNAL', message: e.message ?? String(err) } } satisfies CheckThreadStatus)
  process.exit(1)
}

/** This thread's id in the operating system, where /proc tells it (Linux). */
function ownTid (): { tid?: number } {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isSafeInteger(tid) ? { tid } : {}
  } catch {
    return {}
  }
}

port.on('message', (m: CheckRequestMessage | SignRequestMessage) => {
  let reply: CheckReplyMessage
  if ('sign' in m) {
    try {
      const key = data.sealKey
      if (key === undefined) throw new Error('this thread holds no hub key')
      reply = { id: m.id, signatures: m.sign.map((json) => signReceiptJson(key, json)) }
    } catch (err) {
      reply = { id: m.id, fault: (err as Error)?.stack ?? String(err) }
    }
    port.postMessage(reply)
    return
  }
  try {
    const result = checkMessage({
      body: Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
      format: m.format,
      sender: m.sender,
      declaredType: m.declaredType,
      declaredVersion: m.declaredVersion,
      detachedSignature: m.detachedSignature,
      receivedAt: new Date(m.receivedAt),
      ...(m.seal !== undefined ? { seal: m.seal } : {})
    }, deps)
    reply = { id: m.id, result }
  } catch (err) {
    reply = isHubError(err)
      ? { id: m.id, error: { code: err.code, message: err.message, extra: err.extra } }
      : { id: m.id, fault: (err as Error)?.stack ?? String(err) }
  }
  port.postMessage(reply)
})
