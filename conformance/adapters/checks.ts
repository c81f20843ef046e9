import assert from 'node:assert/strict'
import { Ajv } from 'ajv'
import { pino } from 'pino'
import { PermanentDeliveryError, TransientDeliveryError, type InboundContext, type InboundDocument, type StandardMessage } from '../../src/adapters-sdk/index.js'
import { standardMessage, sampleMessage } from './message.js'
import { loadFixtures, type FixtureCase } from './fixtures.js'
import type { AdapterSubject, Check, ConformancePeer, PeerBehaviour } from './types.js'

/** How long an adapter may take to give up after its signal fired (a liveness bound, not a speed test). */
const SETTLE_MS = 5000
/** How long an inbound adapter may take to pick a produced item up. */
const PICK_UP_MS = 10000

type Settled<T> = { settled: true, ok: true, value: T } | { settled: true, ok: false, error: unknown } | { settled: false }

async function within<T> (p: Promise<T>, ms: number): Promise<Settled<T>> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Settled<T>>((resolve) => { timer = setTimeout(() => { resolve({ settled: false }) }, ms) })
  const result = p.then((value) => ({ settled: true as const, ok: true as const, value }), (error: unknown) => ({ settled: true as const, ok: false as const, error }))
  try {
    return await Promise.race([result, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function waitFor (cond: () => Promise<boolean>, what: string, ms = PICK_UP_MS): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const pause = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

function describe (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

function compileConfig (subject: AdapterSubject): (c: unknown) => Record<string, unknown> {
  const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(subject.adapter.configSchema)
  return (c) => {
    const copy = structuredClone(c) as Record<string, unknown>
    if (!validate(copy)) assert.fail(`the configuration is refused by the adapter's configSchema: ${JSON.stringify(validate.errors)}`)
    return copy
  }
}

function asText (v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  return undefined
}

function fixtureCheck (subject: AdapterSubject, config: (c: unknown) => Record<string, unknown>, fx: FixtureCase): Check {
  return {
    name: `fixture ${fx.name}: ${fx.direction === 'outbound' ? 'fromStandard(standard) = legacy' : 'toStandard(legacy) = standard'}`,
    run: async () => {
      const cfg = config({ ...(subject.config as object), ...fx.config })
      if (fx.direction === 'outbound') {
        assert.ok(subject.adapter.fromStandard, 'the adapter has no fromStandard for an outbound fixture')
        const msg = standardMessage({ body: fx.standard.body, contentType: fx.standard.contentType, routing: fx.standard.routing })
        const before = { ...msg, routing: { ...msg.routing }, body: Buffer.from(msg.body) }
        const actual = subject.adapter.fromStandard(msg, cfg)
        const again = subject.adapter.fromStandard(msg, cfg)
        assert.deepEqual(msg, before, 'fromStandard must not change the message it is given')
        assert.deepEqual(again, actual, 'fromStandard is pure: the same message gives the same result')
        const text = asText(actual)
        if (typeof fx.legacy === 'string') assert.equal(text ?? JSON.stringify(actual), fx.legacy)
        else assert.deepEqual(JSON.parse(JSON.stringify(actual)), fx.legacy)
        return
      }
      assert.ok(subject.adapter.toStandard, 'the adapter has no toStandard for an inbound fixture')
      const input = structuredClone(fx.legacy)
      const actual = subject.adapter.toStandard(input, cfg)
      const again = subject.adapter.toStandard(input, cfg)
      assert.deepEqual(input, fx.legacy, 'toStandard must not change its input')
      assert.deepEqual(again, actual, 'toStandard is pure: the same input gives the same result')
      const routing = Object.fromEntries(Object.entries(actual.routing).filter(([, v]) => v !== undefined))
      assert.deepEqual(routing, fx.standard.routing, 'routing')
      assert.equal(actual.contentType, fx.standard.contentType, 'content type')
      assert.equal(actual.body.toString('utf8'), fx.standard.body.toString('utf8'), 'body')
    }
  }
}

/** Runs a check with a fresh peer, always closed afterwards. */
function withPeer (subject: AdapterSubject, config: (c: unknown) => Record<string, unknown>, fn: (peer: ConformancePeer, cfg: Record<string, unknown>) => Promise<void>, side: 'outbound' | 'inbound' = 'outbound'): () => Promise<void> {
  return async () => {
    const peer = await subject.peer!()
    try {
      await fn(peer, config(side === 'inbound' ? peer.inboundConfig ?? peer.config : peer.config))
    } finally {
      await peer.close()
    }
  }
}

function outboundChecks (subject: AdapterSubject, config: (c: unknown) => Record<string, unknown>): Array<Check & { needs: PeerBehaviour }> {
  const message = subject.message ?? sampleMessage
  const deliver = async (peer: ConformancePeer, cfg: Record<string, unknown>, msg: StandardMessage, signal: AbortSignal): Promise<void> => {
    await subject.adapter.deliver(msg, { config: cfg, routing: msg.routing, log: pino({ level: 'silent' }), signal, services: peer.services ?? { putInMailbox: async () => { throw new Error('no mailbox in this test') } } })
  }
  return [{
    needs: 'accept',
    name: 'outbound: delivers to a willing legacy system',
    run: withPeer(subject, config, async (peer, cfg) => {
      await peer.behave('accept')
      await deliver(peer, cfg, message(), AbortSignal.timeout(SETTLE_MS))
      assert.equal(await peer.held(), 1, 'the legacy system holds the document')
    })
  }, {
    needs: 'accept',
    name: 'outbound: duplicates dropped (a retry with the same id and bytes leaves one document)',
    run: withPeer(subject, config, async (peer, cfg) => {
      await peer.behave('accept')
      const msg = message()
      await deliver(peer, cfg, msg, AbortSignal.timeout(SETTLE_MS))
      await deliver(peer, cfg, { ...msg, attempt: 2 }, AbortSignal.timeout(SETTLE_MS))
      assert.equal(await peer.held(), 1, 'one document after a repeated delivery')
    })
  }, {
    needs: 'accept',
    name: 'outbound: a signal that has already fired is honoured',
    run: withPeer(subject, config, async (peer, cfg) => {
      await peer.behave('accept')
      const ac = new AbortController()
      ac.abort()
      const r = await within(deliver(peer, cfg, message(), ac.signal), SETTLE_MS)
      assert.ok(r.settled, 'deliver settles when its signal has fired')
      if (r.ok) assert.equal(await peer.held(), 1, 'resolving means the legacy system has the document')
      else assert.ok(!(r.error instanceof PermanentDeliveryError), `an abort is not a permanent refusal (got ${describe(r.error)})`)
    })
  }, {
    needs: 'transient',
    name: 'outbound: errors typed — a temporary failure is a TransientDeliveryError',
    run: withPeer(subject, config, async (peer, cfg) => {
      await peer.behave('transient')
      const r = await within(deliver(peer, cfg, message(), AbortSignal.timeout(SETTLE_MS)), SETTLE_MS * 2)
      assert.ok(r.settled && !r.ok, 'deliver rejects')
      assert.ok(r.error instanceof TransientDeliveryError, `expected TransientDeliveryError, got ${describe(r.error)}`)
      assert.match(r.error.code, /^EGIF_ERR_[A-Z0-9_]+$/, 'the error carries a stable code')
    })
  }, {
    needs: 'permanent',
    name: 'outbound: errors typed — a refusal is a PermanentDeliveryError',
    run: withPeer(subject, config, async (peer, cfg) => {
      await peer.behave('permanent')
      const r = await within(deliver(peer, cfg, message(), AbortSignal.timeout(SETTLE_MS)), SETTLE_MS * 2)
      assert.ok(r.settled && !r.ok, 'deliver rejects')
      assert.ok(r.error instanceof PermanentDeliveryError, `expected PermanentDeliveryError, got ${describe(r.error)}`)
      assert.match(r.error.code, /^EGIF_ERR_[A-Z0-9_]+$/, 'the error carries a stable code')
    })
  }, {
    needs: 'hang',
    name: 'outbound: timeouts honoured — a legacy system that never answers is given up when the signal fires',
    run: withPeer(subject, config, async (peer, cfg) => {
      await peer.behave('hang')
      const r = await within(deliver(peer, cfg, message(), AbortSignal.timeout(200)), 200 + SETTLE_MS)
      assert.ok(r.settled, 'deliver settles after its signal fires')
      assert.ok(!r.ok, 'deliver rejects')
      assert.ok(r.error instanceof TransientDeliveryError, `a timeout is retried: expected TransientDeliveryError, got ${describe(r.error)}`)
    })
  }]
}

interface Harness {
  ctx: InboundContext<any>
  submitted: InboundDocument[]
  stop: AbortController
  run: Promise<void>
  settled: () => boolean
}

function startInbound (subject: AdapterSubject, cfg: Record<string, unknown>, answer: (doc: InboundDocument, n: number) => void): Harness {
  const submitted: InboundDocument[] = []
  const stop = new AbortController()
  const ctx: InboundContext<any> = {
    config: cfg,
    log: pino({ level: 'silent' }),
    signal: stop.signal,
    participant: 'TH-SENDER',
    submit: async (doc) => {
      submitted.push(doc)
      answer(doc, submitted.length)
      const receipt = { messageId: doc.routing.messageId, status: 'accepted', sender: 'TH-SENDER', receiver: doc.routing.receiver, receivedAt: new Date().toISOString(), digest: 'sha256:00', signature: 'x.y.z' }
      return { status: 202, receipt: receipt as any }
    }
  }
  let done = false
  const run = subject.adapter.runInbound!(ctx).finally(() => { done = true })
  return { ctx, submitted, stop, run, settled: () => done }
}

async function stopInbound (h: Harness): Promise<void> {
  h.stop.abort()
  const r = await within(h.run, SETTLE_MS)
  assert.ok(r.settled, 'runInbound returns once its signal aborts')
  if (!r.ok) assert.fail(`runInbound rejected instead of returning: ${describe(r.error)}`)
}

function refusal (code: string, retry: boolean): Error {
  return Object.assign(new Error(`refused by the conformance suite (${code})`), { code, retry, status: retry ? 503 : 422 })
}

function inboundChecks (subject: AdapterSubject, config: (c: unknown) => Record<string, unknown>): Array<Check & { needs: 'inbound' }> {
  // Polls after the last expected one that must not submit anything again.
  const QUIET_MS = 300
  return [{
    needs: 'inbound',
    name: 'inbound: an item is submitted once with routing, and the run ends when the signal aborts',
    run: withPeer(subject, config, async (peer, cfg) => {
      const h = startInbound(subject, cfg, () => {})
      try {
        await peer.produce!()
        await waitFor(async () => h.submitted.length >= 1 && (await peer.pending!()) === 0, 'the item is submitted and handled')
        await pause(QUIET_MS)
        assert.equal(h.submitted.length, 1, 'submitted exactly once (duplicates dropped)')
        const d = h.submitted[0]
        assert.ok(d.routing.messageId.length > 0, 'a message id')
        assert.ok(d.routing.receiver.length > 0, 'a receiver')
        assert.ok(d.body.length > 0, 'a body')
        assert.ok(!h.settled(), 'still running before the signal aborts')
      } finally {
        await stopInbound(h)
      }
    }, 'inbound')
  }, {
    needs: 'inbound',
    name: 'inbound: a document the hub refuses is set aside, not retried, and the adapter keeps running',
    run: withPeer(subject, config, async (peer, cfg) => {
      const h = startInbound(subject, cfg, () => { throw refusal('EGIF_ERR_SCHEMA_INVALID', false) })
      try {
        await peer.produce!()
        await waitFor(async () => h.submitted.length >= 1 && (await peer.pending!()) === 0, 'the refused item is set aside')
        await pause(QUIET_MS)
        assert.equal(h.submitted.length, 1, 'a refused item is not submitted again')
        assert.ok(!h.settled(), 'a refusal does not stop the adapter')
      } finally {
        await stopInbound(h)
      }
    }, 'inbound')
  }, {
    needs: 'inbound',
    name: 'inbound: a transient refusal leaves the item for later, resubmitted with the same message id',
    run: withPeer(subject, config, async (peer, cfg) => {
      const h = startInbound(subject, cfg, (_d, n) => { if (n === 1) throw refusal('EGIF_ERR_STORAGE_UNAVAILABLE', true) })
      try {
        await peer.produce!()
        await waitFor(async () => h.submitted.length >= 2 && (await peer.pending!()) === 0, 'the item is submitted again and handled')
        assert.equal(h.submitted[1].routing.messageId, h.submitted[0].routing.messageId, 'the same message id, so the hub drops a repeat')
        assert.ok(h.submitted[1].body.equals(h.submitted[0].body), 'the same bytes')
      } finally {
        await stopInbound(h)
      }
    }, 'inbound')
  }]
}

/**
 * The checks an adapter must pass: its configuration schema, its fixture pairs, and — with a
 * stand-in of the legacy system — typed errors, honoured timeouts, dropped duplicates and a clean
 * inbound loop. Unhandled rejections are watched by the runner around all of them.
 */
export function conformanceChecks (subject: AdapterSubject, fixturesDir?: string): Check[] {
  const config = compileConfig(subject)
  const checks: Check[] = [{
    name: 'config: the schema is an object schema that accepts the sample configuration and refuses unknown options',
    run: async () => {
      const schema = subject.adapter.configSchema
      assert.equal(schema.type, 'object', 'configSchema.type is "object"')
      config(subject.config)
      const validate = new Ajv({ allErrors: true, strict: false }).compile(schema)
      assert.equal(validate({ ...(subject.config as object), noSuchOption: 1 }), false, 'an unknown option is refused (additionalProperties: false), so a typo fails at start')
    }
  }, {
    name: 'shape: a name, a description and something to do',
    run: async () => {
      const a = subject.adapter
      assert.match(a.name, /^[a-z][a-z0-9-]*$/, 'name is lower-case kebab-case')
      assert.ok(a.description.length > 0, 'a description for operators')
      assert.equal(typeof a.deliver, 'function', 'deliver is a function')
    }
  }]
  const dir = subject.fixtures ?? fixturesDir
  if (dir !== undefined) for (const fx of loadFixtures(dir)) checks.push(fixtureCheck(subject, config, fx))
  if (subject.peer === undefined) return checks
  return [...checks, ...peerChecks(subject, config)]
}

function peerChecks (subject: AdapterSubject, config: (c: unknown) => Record<string, unknown>): Check[] {
  // What the stand-in can play is known only once one is made: probe once, then run or mark each
  // check not applicable.
  let probed: Promise<{ can: Set<string>, inbound: boolean }> | undefined
  const probe = async (): Promise<{ can: Set<string>, inbound: boolean }> => {
    probed ??= (async () => {
      const p = await subject.peer!()
      try {
        return { can: new Set(p.behaviours), inbound: p.produce !== undefined && p.pending !== undefined }
      } finally {
        await p.close()
      }
    })()
    return await probed
  }
  const all = [...outboundChecks(subject, config), ...(subject.adapter.runInbound !== undefined ? inboundChecks(subject, config) : [])]
  return all.map((c) => ({
    name: c.name,
    run: async () => {
      const x = await probe()
      if (c.needs === 'inbound' && !x.inbound) throw new NotApplicable('the stand-in produces no inbound items')
      if (c.needs !== undefined && c.needs !== 'inbound' && !x.can.has(c.needs)) throw new NotApplicable(`the stand-in cannot play "${c.needs}"`)
      await c.run()
    }
  }))
}

/** Thrown by a check that does not apply to this adapter (its stand-in cannot play the part). */
export class NotApplicable extends Error {
  constructor (why: string) {
    super(why)
    this.name = 'NotApplicable'
  }
}
