import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import forge from 'node-forge'
import { HubError } from '../errors.js'

/** What a PKCS#12 (.p12 / .pfx) file holds for the hub: one private key and its certificates. */
export interface Pkcs12Contents {
  privateKey: KeyObject
  certificates: X509Certificate[]
}

/**
 * Reads a PKCS#12 file in pure JavaScript (node-forge), so no `openssl` binary is needed at run
 * time and the legacy ciphers (3DES, RC2) that OpenSSL 3 hides behind its legacy provider still
 * open. Handles the modern default (PBES2 / AES-256 / HMAC-SHA-256) and the legacy one.
 *
 * node-forge decodes only RSA keys and RSA certificates into its own objects; for the others it
 * hands back the ASN.1, which node:crypto reads. Either way the result is a node KeyObject and
 * node X509Certificates.
 *
 * @throws HubError `EGIF_ERR_KEY_PASSPHRASE` (wrong or missing passphrase), `EGIF_ERR_KEY_FORMAT`
 *   (not PKCS#12, no private key, or several).
 */
export function readPkcs12 (der: Uint8Array, passphrase = ''): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary')))
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (/MAC could not be verified|wrong password|Invalid password/i.test(message)) {
      throw new HubError('EGIF_ERR_KEY_PASSPHRASE', 'the PKCS#12 passphrase is wrong or missing (its integrity check fails)')
    }
    throw new HubError('EGIF_ERR_KEY_FORMAT', `not a readable PKCS#12 file: ${message}`)
  }

  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag] ?? [])
  ]
  if (keyBags.length !== 1) {
    throw new HubError('EGIF_ERR_KEY_FORMAT', `a hub PKCS#12 file must hold exactly one private key, this one holds ${keyBags.length}`)
  }
  const bag = keyBags[0]
  let privateKey: KeyObject
  try {
    if (bag.key != null) {
      const pkcs1 = forge.asn1.toDer(forge.pki.privateKeyToAsn1(bag.key as forge.pki.rsa.PrivateKey)).getBytes()
      privateKey = createPrivateKey({ key: Buffer.from(pkcs1, 'binary'), format: 'der', type: 'pkcs1' })
    } else if (bag.asn1 != null) {
      const pkcs8 = forge.asn1.toDer(bag.asn1).getBytes()
      privateKey = createPrivateKey({ key: Buffer.from(pkcs8, 'binary'), format: 'der', type: 'pkcs8' })
    } else {
      throw new Error('empty key bag')
    }
  } catch (err) {
    throw new HubError('EGIF_ERR_KEY_FORMAT', `the PKCS#12 private key cannot be read: ${err instanceof Error ? err.message : String(err)}`)
  }

  const certificates: X509Certificate[] = []
  for (const certBag of p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag] ?? []) {
    const asn1 = certBag.cert != null ? forge.pki.certificateToAsn1(certBag.cert) : certBag.asn1
    if (asn1 == null) continue
    try {
      certificates.push(new X509Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')))
    } catch (err) {
      throw new HubError('EGIF_ERR_KEY_FORMAT', `a PKCS#12 certificate cannot be read: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  return { privateKey, certificates }
}
