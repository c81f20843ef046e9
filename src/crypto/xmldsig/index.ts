/** XML-DSig and XAdES-BES: verification of senders' enveloped signatures and signing (docs/signatures.md). */
export { verifyXmlSignature, type XmlSignatureCheck, type XmlSignatureForm, type VerifyXmlSignatureOptions } from './verify.js'
export { signXml, type SignXmlOptions } from './sign.js'
export { KeyCache } from './key-cache.js'
