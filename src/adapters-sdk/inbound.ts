import type { DocumentSigner } from './signing.js'
import type { InboundContext, InboundDocument } from './types.js'

/** What an inbound adapter should do with an item the hub did not take. */
export interface SubmitFailure {
  /** `true`: leave the item where it is and try again later (the hub is shutting down, storage is down). */
  retry: boolean
  code: string
  detail: string
}

/**
 * Reads an error thrown by `ctx.submit`. The hub's refusals carry a stable code and say whether
 * the same bytes can succeed later: a refused document (schema, route, signature) is set aside
 * with its reason, anything transient is left for the next poll.
 */
export function submitFailure (err: unknown): SubmitFailure {
  const e = err as { code?: unknown, retry?: unknown, message?: unknown }
  const code = typeof e?.code === 'string' ? e.code : 'EGIF_ERR_INTERNAL'
  const detail = typeof e?.message === 'string' ? e.message : String(err)
  return { retry: typeof e?.retry === 'boolean' ? e.retry : true, code, detail }
}

/**
 * Submits a document, signed first when the adapter holds a signer for a legacy system that cannot
 * sign (XML gets an enveloped signature, JSON a detached JWS in `EGIF-Signature`).
 */
export async function submitDocument<C> (ctx: InboundContext<C>, doc: InboundDocument, signer?: DocumentSigner): ReturnType<InboundContext<C>['submit']> {
  if (signer === undefined) return await ctx.submit(doc)
  const signed = signer.sign(doc.body, doc.contentType)
  return await ctx.submit({ ...doc, body: signed.body, signature: signed.headers['egif-signature'] ?? doc.signature })
}
