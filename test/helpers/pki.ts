// A throwaway PKI for the XML signature tests, made with the openssl CLI at test time: a CA, and
// RSA-2048 / ECDSA P-256 end-entity certificates it issues. No key material is checked in.
import { execFileSync } from 'node:child_process'
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ParticipantTrust } from '../../src/crypto/trust.js'

export type KeyKind = 'rsa' | 'ec'

export interface TestIdentity {
  key: KeyObject
  cert: X509Certificate
  keyPath: string
  certPath: string
}

export interface TestPki {
  dir: string
  ca: TestIdentity
  /** Issues an end-entity certificate signed by the CA (`selfSigned`: by its own key instead). */
  issue: (name: string, kind: KeyKind, opts?: { selfSigned?: boolean, days?: number }) => TestIdentity
}

function openssl (dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

function keyArgs (kind: KeyKind): string[] {
  return kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
}

function load (dir: string, name: string): TestIdentity {
  const keyPath = join(dir, `${name}.key`)
  const certPath = join(dir, `${name}.pem`)
  return { key: createPrivateKey(readFileSync(keyPath)), cert: new X509Certificate(readFileSync(certPath)), keyPath, certPath }
}

let serial = 1000

/** Creates the CA in `dir` (a fresh temporary folder the caller removes). */
export function createPki (dir: string): TestPki {
  openssl(dir, ['req', '-x509', ...keyArgs('rsa'), '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650',
    '-subj', '/C=TH/O=egif test/CN=egif test CA',
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n')
  const ca = load(dir, 'ca')
  return {
    dir,
    ca,
    issue (name, kind, opts = {}) {
      const subj = `/C=TH/O=egif test/CN=${name}`
      const days = String(opts.days ?? 825)
      if (opts.selfSigned === true) {
        openssl(dir, ['req', '-x509', ...keyArgs(kind), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', days, '-subj', subj])
      } else {
        openssl(dir, ['req', ...keyArgs(kind), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj])
        openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(serial++),
          '-days', days, '-extfile', 'leaf.ext', '-out', `${name}.pem`])
      }
      return load(dir, name)
    }
  }
}

/** Trust that registers exactly these certificates for the sender (no CA binding). */
export function registered (...ids: TestIdentity[]): ParticipantTrust {
  return { certificates: ids.map((i) => i.cert), authorities: [] }
}
