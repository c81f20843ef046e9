import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto'
import { HubError } from '../errors.js'
import type { HubKeyRing } from '../crypto/jwks.js'
import { jwkThumbprint, type Jwks } from '../crypto/jwk.js'
import { keysFromJwks, verifyCompact, type VerificationKey } from '../crypto/jws.js'
import { fromHex } from './hash.js'

export const CHECKPOINT_TYP = 'egif-trail-checkpoint'

/**
 * What a checkpoint signs: the log's name, how many records it covers, the RFC 9162 root over
 * them, the leaf hash of the last one (the chain's head, so a change to the very last record is
 * located too) and the time of signing.
 */
export interface CheckpointBody {
  log: string
  size: number
  /** Hex RFC 9162 Merkle tree hash of records [0, size). */
  root: string
  /** Hex leaf hash of record size−1 (64 zeros when size is 0). */
  head: string
  time: string
}

/** A checkpoint as stored (one JSON line of `checkpoints.jsonl` or of a bundle). */
export interface CheckpointLine {
  /** Compact JWS (`typ: egif-trail-checkpoint`) over the body. */
  checkpoint: string
  /** Base64 DER RFC 3161 time-stamp token over SHA-256 of the JWS text, when trusted time is on. */
  tsa?: string
}

export function signCheckpoint (keys: HubKeyRing, body: CheckpointBody): string {
  return keys.signCompact({ log: body.log, size: body.size, root: body.root, head: body.head, time: body.time }, { typ: CHECKPOINT_TYP })
}

/** Reads the body of a checkpoint without checking its signature (to sort and report). */
export function peekCheckpoint (jws: string): CheckpointBody {
  const parts = jws.split('.')
  if (parts.length !== 3) throw new Error('a checkpoint is a compact JWS of three parts')
  return checkBody(JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')))
}

/**
 * Verifies a checkpoint's signature with keys the auditor trusts and returns its body.
 * @throws HubError `EGIF_ERR_JWS_*` when the signature or the type is wrong.
 */
export function verifyCheckpoint (jws: string, keys: readonly VerificationKey[]): CheckpointBody {
  const { header, payload } = verifyCompact(jws, keys)
  if (header.typ !== CHECKPOINT_TYP) throw new HubError('EGIF_ERR_JWS_TYPE', `expected a JWS of type ${CHECKPOINT_TYP}, got ${String(header.typ ?? 'none')}`)
  return checkBody(payload)
}

function checkBody (p: unknown): CheckpointBody {
  const o = p as Record<string, unknown>
  if (typeof o !== 'object' || o === null) throw new Error('the checkpoint payload is not an object')
  if (typeof o.log !== 'string' || o.log === '') throw new Error('the checkpoint has no log')
  if (!Number.isSafeInteger(o.size) || (o.size as number) < 0) throw new Error('the checkpoint size is not a count')
  fromHex(o.root, 'the checkpoint root')
  fromHex(o.head, 'the checkpoint head')
  if (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time))) throw new Error('the checkpoint time is not a time')
  return { log: o.log, size: o.size as number, root: o.root as string, head: o.head as string, time: o.time }
}

/**
 * The keys an auditor trusts, from a file they obtained independently of the trail: PEM
 * certificates, PEM public keys, or a JWKS (JSON). Each key's kid is its RFC 7638 thumbprint,
 * which is how the hub names its keys.
 */
export function trustedKeysFrom (text: string): VerificationKey[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('{')) return keysFromJwks(JSON.parse(trimmed) as Jwks)
  const keys: KeyObject[] = []
  for (const m of trimmed.matchAll(/-----BEGIN (CERTIFICATE|PUBLIC KEY)-----[\s\S]+?-----END \1-----/g)) {
    keys.push(m[1] === 'CERTIFICATE' ? new X509Certificate(m[0]).publicKey : createPublicKey(m[0]))
  }
  if (keys.length === 0) throw new Error('no certificate, public key or JWKS found')
  return keys.map((publicKey) => ({ kid: jwkThumbprint(publicKey), publicKey }))
}
