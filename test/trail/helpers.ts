import { generateHubKey } from '../../src/crypto/hub-key.js'
import { HubKeyRing } from '../../src/crypto/jwks.js'
import { publicJwk } from '../../src/crypto/jwk.js'
import type { VerificationKey } from '../../src/crypto/jws.js'
import { Trail, type TrailOptions } from '../../src/trail/trail.js'
import type { TrailEvent } from '../../src/trail/event.js'

export function ring (): HubKeyRing {
  return new HubKeyRing(generateHubKey('ES256'))
}

/** What an auditor holds: the hub's public key, obtained apart from the trail. */
export function trusted (keys: HubKeyRing): VerificationKey[] {
  return [{ kid: keys.current.kid, publicKey: keys.current.publicKey }]
}

export function jwkOf (keys: HubKeyRing): string {
  return JSON.stringify({ keys: [{ ...publicJwk(keys.current.publicKey), kid: keys.current.kid }] })
}

/** The events of one message's life, numbered so that each record differs. */
export function lifeOf (n: number): TrailEvent[] {
  const m = { messageId: `m-${n}`, sender: 'TH-A', receiver: 'TH-B', documentType: n % 2 === 0 ? 'test-note' : 'test-order' }
  return [
    { type: 'accepted', ...m, digest: 'sha256:' + String(n).padStart(64, '0'), size: 100 + n },
    { type: 'in-mailbox', ...m, attempt: 1 },
    { type: 'acked', ...m, by: 'TH-B' }
  ]
}

/** A trail of `messages` messages (3 records each), checkpointed every `every` records, closed. */
export async function writeTrail (dir: string, keys: HubKeyRing, messages: number, every = 10, extra: Partial<TrailOptions> = {}): Promise<void> {
  const trail = await Trail.open(dir, { log: 'hub-1', keys, checkpointEveryRecords: every, checkpointEveryMs: 60_000, unsafeNoSync: true, ...extra })
  for (let n = 0; n < messages; n++) {
    for (const e of lifeOf(n)) await trail.append(e)
  }
  await trail.close()
}
