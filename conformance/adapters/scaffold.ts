import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function camel (name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

/**
 * Writes a new adapter folder: `index.ts` (a working adapter that PUTs a JSON item to the legacy
 * system and reads its items back), `conformance.ts` (its subject with a loopback stand-in),
 * one fixture pair each way and `<name>.test.ts`. Every generated file passes as it is; the author
 * changes them into the real thing. Returns the files written.
 */
export function scaffoldAdapter (name: string, parent: string): string[] {
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(name)) throw new Error(`"${name}" is not a valid adapter name: lower-case letters, digits and dashes, starting with a letter`)
  const dir = resolve(parent, name)
  if (existsSync(dir)) throw new Error(`${dir} already exists`)
  const up = relative(dir, ROOT).split(sep).join('/') || '.'
  const id = camel(name)
  const body = '{"schemaVersion":"1.0","orderId":"RD-0045","amount":1250.5}'
  const files: Record<string, string> = {
    'index.ts': `import { defineAdapter, fetchForDelivery, throwForStatus, type StandardMessage } from '${up}/src/adapters-sdk/index.js'

/** Configuration of ${name}; defaults are applied from configSchema when the hub starts. */
export interface Config {
  /** The legacy system's endpoint that takes one item per PUT. */
  url: string
  /** Extra headers, e.g. the system's own credentials. Default none. */
  headers: Record<string, string>
}

/** What the legacy system takes and gives: one JSON item per document. */
export interface Item {
  ref: string
  from: string
  to: string
  kind: string
  receivedAt: string
  documentBase64: string
}

/** Pure: the standard message as the legacy system's item. */
export function toItem (msg: StandardMessage): Item {
  return {
    ref: \`\${msg.routing.sender}/\${msg.routing.messageId}\`,
    from: msg.routing.sender,
    to: msg.routing.receiver,
    kind: msg.routing.documentType,
    receivedAt: msg.acceptedAt,
    documentBase64: msg.body.toString('base64')
  }
}

export default defineAdapter<Config, Item>({
  name: '${name}',
  description: 'TODO: one sentence for operators — what system this adapter connects.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} }
    }
  },
  fromStandard: (msg) => toItem(msg),
  // Inbound: an item the legacy system produced, as a standard document for the hub.
  toStandard: (item) => ({
    routing: { messageId: item.ref.split('/').pop() ?? item.ref, receiver: item.to, documentType: item.kind },
    contentType: 'application/json',
    body: Buffer.from(item.documentBase64, 'base64')
  }),
  async deliver (msg, ctx) {
    const item = toItem(msg)
    // PUT to a URL made of the message id: a retry overwrites the same item, so a repeat is harmless.
    const url = \`\${ctx.config.url}/\${encodeURIComponent(item.ref)}\`
    const res = await fetchForDelivery(url, {
      method: 'PUT',
      headers: { ...ctx.config.headers, 'content-type': 'application/json', 'egif-seal': msg.seal },
      body: JSON.stringify(item),
      signal: ctx.signal
    })
    throwForStatus(res, await res.text().catch(() => ''), url)
  }
})
`,
    'conformance.ts': `import { defineConformance } from '${up}/conformance/adapters/index.js'
import { httpStandIn } from '${up}/conformance/adapters/stand-ins/http.js'
import ${id}, { type Config } from './index.js'

/**
 * The conformance subject: a stand-in of the legacy system on 127.0.0.1 that keeps one item per
 * URL and can fail the ways the suite asks for. Make it behave like the real system.
 */
export default defineConformance<Config>({
  adapter: ${id},
  config: { url: 'https://legacy.example.go.th/api/items', headers: {} },
  peer: async () => {
    const held = new Set<string>()
    const s = await httpStandIn((req, b) => {
      if (b === 'transient') return { status: 503 }
      if (b === 'permanent') return { status: 400, body: 'item refused' }
      held.add(req.url)
      return { status: 204 }
    })
    return {
      config: { url: \`\${s.url}/api/items\`, headers: {} },
      behaviours: ['accept', 'transient', 'permanent', 'hang'],
      behave: (b) => { s.behaviour = b },
      held: async () => held.size,
      close: s.close
    }
  }
})
`,
    [`${name}.test.ts`]: `import t from 'tap'
import { fileURLToPath } from 'node:url'
import { tapConformance } from '${up}/conformance/adapters/index.js'
import subject from './conformance.js'

t.test('${name} passes the adapter conformance suite (fixtures included)', async (t) => {
  await tapConformance(t, subject, fileURLToPath(new URL('./fixtures/', import.meta.url)))
})
`,
    'fixtures/order-outbound/standard.json': body,
    'fixtures/order-outbound/case.json': JSON.stringify({
      description: 'A standard JSON document becomes the legacy system\'s item',
      direction: 'outbound',
      standard: { routing: { messageId: 'RD-0045', sender: 'TH-RD', receiver: 'TH-XYZ', documentType: 'test-order', documentVersion: '1.0' }, contentType: 'application/json', bodyFile: 'standard.json' },
      legacy: { ref: 'TH-RD/RD-0045', from: 'TH-RD', to: 'TH-XYZ', kind: 'test-order', receivedAt: '2026-11-24T03:00:00.000Z', documentBase64: Buffer.from(body).toString('base64') }
    }, null, 2) + '\n',
    'fixtures/item-inbound/case.json': JSON.stringify({
      description: 'An item the legacy system produced becomes a standard document',
      direction: 'inbound',
      legacy: { ref: 'TH-XYZ/XYZ-0001', from: 'TH-XYZ', to: 'TH-RD', kind: 'test-order', receivedAt: '2026-11-24T03:00:00.000Z', documentBase64: Buffer.from(body).toString('base64') },
      standard: { routing: { messageId: 'XYZ-0001', receiver: 'TH-RD', documentType: 'test-order' }, contentType: 'application/json', body }
    }, null, 2) + '\n'
  }
  // Outside this repository the folder needs to say that its .ts files are ES modules.
  if (relative(ROOT, dir).startsWith('..')) files['package.json'] = JSON.stringify({ private: true, type: 'module' }, null, 2) + '\n'
  const written: string[] = []
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, file)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text, { flag: 'wx' })
    written.push(path)
  }
  return written
}
