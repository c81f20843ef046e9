import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XmlC14NMode, XmlDocument, XmlElement, type XmlNode } from 'libxml2-wasm'
import { canonicalizeDocument, canonicalizeSubtree, OctetCollector } from '../../src/crypto/xmldsig/c14n.js'
import {
  attribute, attributeValue, documentPointer, firstAttribute, firstChild, isBlankText, localName, namespaceUri, nextSibling,
  nodeType, parentNode, rootElement, textContent, type NodePtr
} from '../../src/crypto/xmldsig/native.js'
import { signXml } from '../../src/crypto/xmldsig/index.js'
import { createPki } from '../helpers/pki.js'
import { tmpDir } from '../helpers/tmp.js'

/*
 * The verifier canonicalizes by bending libxml2's tree links around what a node-set leaves out
 * (src/crypto/xmldsig/c14n.ts). The reference here is libxml2-wasm's public canonicalization of
 * the same node-set, which walks the whole tree and asks a JS callback about every node: both
 * must give the same bytes, in every mode, and the tree must be as it was afterwards.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CORPUS = join(ROOT, '../shared/corpus/etda-etax-2.0/')
const DS = 'http://www.w3.org/2000/09/xmldsig#'
const pki = createPki(tmpDir(t, 'egif-c14n-'))
const rsa = pki.issue('agency-c14n', 'rsa')

/** Namespaces declared, redeclared and undeclared; xml: attributes to inherit; text that needs escaping. */
const TRICKY = `<?xml version="1.0" encoding="UTF-8"?>
<?xml-model href="rules.sch"?>
<!-- before the root -->
<a:Doc xmlns:a="urn:a" xmlns="urn:default" xmlns:b="urn:b" xmlns:unused="urn:unused" xml:lang="th" xml:space="preserve" Id="doc-1" b:z="2" a:y="1" c="3">
  <Header xmlns:b="urn:b2" b:attr="x &amp; &lt; &gt; &quot; &#9; &#10; &#13;">ไทย &amp; &lt;tag&gt; &#13; "q" 'a'</Header>
  <?pi-in-root data?>
  <!-- a comment in the root -->
  <Plain xmlns="">no namespace <![CDATA[<cdata> & ]]></Plain>
  <ds:Signature xmlns:ds="${DS}" Id="sig">
    <ds:SignedInfo xml:lang="en"><ds:CanonicalizationMethod Algorithm="urn:x"/><!-- inside --><ds:Reference URI=""><ds:DigestValue>AAA=</ds:DigestValue></ds:Reference></ds:SignedInfo>
    <ds:Object><b:Props xmlns:b="urn:b3" Id="props"><Deep xml:space="default"><b:Leaf a:q="1">v</b:Leaf></Deep></b:Props></ds:Object>
  </ds:Signature>
  <Tail xml:base="http://example.org/dir/"><a:Inner xmlns:a="urn:a-other" xml:base="sub/">re-bound prefix<Leaf xml:id="leaf">x</Leaf></a:Inner></Tail>
</a:Doc>
<!-- after the root -->
<?epilog pi?>
`

/** Variants of where the Signature sits among the root's children. */
function placements (): Array<[string, string]> {
  const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(TRICKY)![0]
  const without = TRICKY.replace(sig, '')
  return [
    ['in the middle', TRICKY],
    ['first child', without.replace(/(<a:Doc [^>]*>)/, `$1${sig}`)],
    ['last child', without.replace('</a:Doc>', `${sig}</a:Doc>`)],
    ['only child, no prolog', `<a:Doc xmlns:a="urn:a" Id="doc-1">${sig.replace('xmlns:ds', 'xmlns:a2="urn:a" xmlns:ds')}</a:Doc>`],
    // subtrees away from the xml: attributes are canonicalized without a callback
    ['no xml: attributes on the root', TRICKY.replace(' xml:lang="th" xml:space="preserve"', '')]
  ]
}

function signedSamples (): Array<[string, string]> {
  const letter = readFileSync(join(ROOT, 'schemas/gov-letter/samples/valid/with-attachments-5kb.xml'))
  const invoice = readFileSync(join(CORPUS, 'samples/INV71600001.xml'))
  return [
    ['gov-letter, xmldsig exc-c14n', signXml(letter, { key: rsa.key, certificate: rsa.cert, form: 'xmldsig', c14n: 'exc-c14n' }).toString()],
    ['e-Tax invoice, XAdES-BES c14n', signXml(invoice, { key: rsa.key, certificate: rsa.cert, form: 'xades-bes', c14n: 'c14n', digest: 'sha512' }).toString().replace(/^\uFEFF/, '')]
  ]
}

const MODES = [
  ['C14N 1.0', XmlC14NMode.XML_C14N_1_0],
  ['C14N 1.1', XmlC14NMode.XML_C14N_1_1],
  ['exclusive C14N', XmlC14NMode.XML_C14N_EXCLUSIVE_1_0]
] as const

function prefixLists (mode: number): Array<string[] | undefined> {
  return mode === XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 ? [undefined, ['b'], ['', 'a', 'unused'], ['ds', 'xades']] : [undefined]
}

const ptr = (n: XmlNode): number => (n as unknown as { _nodePtr: number })._nodePtr

function inside (node: XmlNode | null, ancestor: XmlNode): boolean {
  for (let n: XmlNode | null = node; n !== null; n = n.parent) if (n.isSameNode(ancestor)) return true
  return false
}

function collect (fn: (sink: OctetCollector) => void): string {
  const out = new OctetCollector()
  fn(out)
  return out.bytes().toString('utf8')
}

function elements (doc: XmlDocument): XmlElement[] {
  return doc.find('//*').filter((n): n is XmlElement => n instanceof XmlElement)
}

t.test('document and root minus the Signature, and every subtree, equal libxml2-wasm\'s own canonicalization', async (t) => {
  let cases = 0
  for (const [name, text] of [...placements(), ...signedSamples()]) {
    const doc = XmlDocument.fromString(text)
    const before = doc.toString({ format: false })
    const root = doc.root
    const sig = doc.get('//ds:Signature', { ds: DS })!
    for (const [modeName, mode] of MODES) {
      for (const prefixes of prefixLists(mode)) {
        for (const withComments of [false, true]) {
          const what = `${name}, ${modeName}${withComments ? ' with comments' : ''}${prefixes !== undefined ? ` [${prefixes.join(' ')}]` : ''}`
          const method = { mode, withComments }
          const opts = { mode, withComments, ...(prefixes !== undefined ? { inclusiveNamespacePrefixes: prefixes } : {}) }
          t.equal(collect((s) => canonicalizeDocument(doc, 'document', ptr(sig), method, s, prefixes)),
            doc.canonicalizeToString({ ...opts, isVisible: (n, p) => !n.isSameNode(sig) && !inside(p, sig) }), `${what}: document minus Signature`)
          // The document node itself renders nothing; it counts as visible so that libxml2-wasm's
          // cascading callback does not take the root for a node outside the set.
          t.equal(collect((s) => canonicalizeDocument(doc, 'root', ptr(sig), method, s, prefixes)),
            doc.canonicalizeToString({ ...opts, isVisible: (n, p) => (p === null || n.isSameNode(root) || inside(p, root)) && !n.isSameNode(sig) && !inside(p, sig) }), `${what}: root minus Signature`)
          t.equal(collect((s) => canonicalizeDocument(doc, 'document', 0, method, s, prefixes)), doc.canonicalizeToString(opts), `${what}: whole document`)
          for (const el of elements(doc)) {
            const got = collect((s) => canonicalizeSubtree(doc, ptr(el), method, s, prefixes))
            if (got !== el.canonicalizeToString(opts)) t.fail(`${what}: subtree ${el.name}`)
            cases++
          }
          cases += 3
        }
      }
    }
    t.equal(doc.toString({ format: false }), before, `${name}: the tree is as it was`)
    doc.dispose()
  }
  t.ok(cases > 500, `${cases} node-sets compared`)
})

t.test('the tree is restored when the consumer of the octets throws', async (t) => {
  const doc = XmlDocument.fromString(TRICKY)
  t.teardown(() => doc.dispose())
  const before = doc.toString({ format: false })
  const sig = doc.get('//ds:Signature', { ds: DS })!
  const signedInfo = doc.get('//ds:SignedInfo', { ds: DS })!
  const failing = { update: () => { throw new Error('sink failed') } }
  const method = { mode: XmlC14NMode.XML_C14N_1_0, withComments: false }
  t.throws(() => canonicalizeDocument(doc, 'root', ptr(sig), method, failing), /sink failed/)
  t.throws(() => canonicalizeSubtree(doc, ptr(signedInfo), method, failing), /sink failed/)
  t.equal(doc.toString({ format: false }), before)
  t.equal(collect((s) => canonicalizeSubtree(doc, ptr(signedInfo), method, s)), signedInfo.canonicalizeToString(method), 'and canonicalizes as before')
})

t.test('only a child of the root can be left out', async (t) => {
  const doc = XmlDocument.fromString(TRICKY)
  t.teardown(() => doc.dispose())
  const deep = doc.get('//ds:SignedInfo', { ds: DS })!
  t.throws(() => canonicalizeDocument(doc, 'document', ptr(deep), { mode: 0, withComments: false }, new OctetCollector()), /child of the root/)
})

t.test('struct reads from the wasm heap agree with libxml2-wasm\'s object API', async (t) => {
  for (const [name, text] of [['tricky', TRICKY], ...signedSamples()]) {
    const doc = XmlDocument.fromString(text)
    const docPtr = documentPointer(doc)
    t.equal(rootElement(docPtr), ptr(doc.root), `${name}: root`)
    // every node in document order, by pointer and by XPath
    const walked: NodePtr[] = []
    const walk = (p: NodePtr): void => {
      for (let c = firstChild(p); c !== 0; c = nextSibling(c)) {
        if (parentNode(c) !== p) t.fail(`${name}: parent of a child of ${localName(p)}`)
        walked.push(c)
        if (nodeType(c) === 1) walk(c)
      }
    }
    walk(docPtr)
    const listed = doc.find('//node()')
    t.same(walked, listed.map(ptr), `${name}: ${walked.length} nodes in the same order`)
    for (const n of listed) {
      const p = ptr(n)
      if (n instanceof XmlElement) {
        if (nodeType(p) !== 1 || localName(p) !== n.name || namespaceUri(p) !== n.namespaceUri) t.fail(`${name}: element ${n.name}`)
        let a: NodePtr = firstAttribute(p)
        for (const attr of n.attrs) {
          if (a !== ptr(attr) || localName(a) !== attr.name || namespaceUri(a) !== attr.namespaceUri || attributeValue(a) !== attr.value) t.fail(`${name}: attribute ${attr.name} of ${n.name}`)
          if (attr.namespaceUri === '' && attribute(p, attr.name) !== attr.value) t.fail(`${name}: attribute(${attr.name})`)
          a = nextSibling(a)
        }
        if (a !== 0) t.fail(`${name}: ${n.name} has more attributes than the API lists`)
      } else if (nodeType(p) === 3 || nodeType(p) === 4) {
        if (textContent(p) !== n.content || isBlankText(p) !== (n.content.trim() === '')) t.fail(`${name}: text ${JSON.stringify(n.content.slice(0, 40))}`)
      }
    }
    doc.dispose()
  }
})

t.test('blank text as trim() sees it, Unicode spaces included', async (t) => {
  const doc = XmlDocument.fromString('<r><a> \t\n </a><b>\u00a0\u3000</b><c> x </c><d>\u00a0x</d></r>')
  t.teardown(() => doc.dispose())
  const texts = doc.root.find('./*').map((n) => firstChild(ptr(n)))
  t.same(texts.map(isBlankText), [true, true, false, false])
})
