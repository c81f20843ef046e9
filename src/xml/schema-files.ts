import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { xmlRegisterInputProvider } from 'libxml2-wasm'
import { fsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs'
import { HubError } from '../errors.js'

/** Turns the bytes of a schema file into the bytes libxml2 compiles (null: unchanged). */
export type SchemaRewrite = (file: string, bytes: Buffer) => Uint8Array | null

// libxml2 keeps one process-wide table of input callbacks (a few slots; every registration takes
// one, and `xmlRegisterFsInputProviders()` registers again on every call). So this module holds
// the one piece of process-wide state in the XML layer: whether our provider is registered, and
// which schema compilations are running right now (with the rewrite each asks for). Everything
// else is passed in.
let registered = false
const gates: Array<SchemaRewrite | undefined> = []
// Files being read, by the descriptor handed to libxml2: each is read whole when opened.
const open = new Map<number, { bytes: Uint8Array, at: number }>()
let nextDescriptor = 1

function pathOf (filename: string): string {
  return /^file:/i.test(filename) ? fileURLToPath(filename) : filename
}

/**
 * Reads local files for libxml2, but only while {@link withSchemaFiles} runs. Documents from
 * agencies are parsed with the gate closed, so whatever they name (an external entity, an
 * XInclude, an xsi:schemaLocation) can never read the file system, even if a parser option
 * were wrong. Only plain paths and file: URLs are served; http(s) and every other scheme are
 * never matched, and the libxml2 in libxml2-wasm has no network client of its own.
 */
const gatedFsProvider: typeof fsInputProviders = {
  match (filename) {
    if (gates.length === 0) return false
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(filename)?.[1]
    if (scheme !== undefined && scheme.toLowerCase() !== 'file') return false
    return fsInputProviders.match(filename)
  },
  open (filename) {
    if (gates.length === 0) return undefined
    let bytes: Uint8Array
    try {
      const file = pathOf(filename)
      const raw = readFileSync(file)
      bytes = gates[gates.length - 1]?.(file, raw) ?? raw
    } catch {
      return undefined
    }
    const fd = nextDescriptor++
    open.set(fd, { bytes, at: 0 })
    return fd
  },
  read (fd, buf) {
    const f = open.get(fd)
    if (f === undefined) return -1
    const n = Math.min(buf.byteLength, f.bytes.byteLength - f.at)
    buf.set(f.bytes.subarray(f.at, f.at + n))
    f.at += n
    return n
  },
  close (fd) {
    open.delete(fd)
    return true
  }
}

/** Registers the gated file provider once per process; later calls do nothing. */
function ensureRegistered (): void {
  if (registered) return
  if (!xmlRegisterInputProvider(gatedFsProvider)) {
    throw new HubError('EGIF_ERR_SCHEMA_LOAD', 'libxml2 has no free input-callback slot for the schema file reader')
  }
  registered = true
}

/**
 * Runs `fn` (synchronous: libxml2 compiles schemas synchronously, so no document parse can
 * interleave) with libxml2 allowed to read schema includes and imports from the file system,
 * each file passed through `rewrite` when one is given.
 */
export function withSchemaFiles<T> (fn: () => T, rewrite?: SchemaRewrite): T {
  ensureRegistered()
  gates.push(rewrite)
  try {
    return fn()
  } finally {
    gates.pop()
  }
}
