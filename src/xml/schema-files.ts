import { xmlRegisterInputProvider } from 'libxml2-wasm'
import { fsInputProviders } from 'libxml2-wasm/lib/nodejs.mjs'
import { HubError } from '../errors.js'

// libxml2 keeps one process-wide table of input callbacks (a few slots; every registration takes
// one, and `xmlRegisterFsInputProviders()` registers again on every call). So this module holds
// the one piece of process-wide state in the XML layer: whether our provider is registered, and
// whether a schema is being compiled right now. Everything else is passed in.
let registered = false
let openGates = 0

/**
 * Reads local files for libxml2, but only while {@link withSchemaFiles} runs. Documents from
 * agencies are parsed with the gate closed, so whatever they name (an external entity, an
 * XInclude, an xsi:schemaLocation) can never read the file system, even if a parser option
 * were wrong. Only plain paths and file: URLs are served; http(s) and every other scheme are
 * never matched, and the libxml2 in libxml2-wasm has no network client of its own.
 */
const gatedFsProvider: typeof fsInputProviders = {
  match (filename) {
    if (openGates === 0) return false
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(filename)?.[1]
    if (scheme !== undefined && scheme.toLowerCase() !== 'file') return false
    return fsInputProviders.match(filename)
  },
  open (filename) {
    return openGates > 0 ? fsInputProviders.open(filename) : undefined
  },
  read (fd, buf) {
    return fsInputProviders.read(fd, buf)
  },
  close (fd) {
    return fsInputProviders.close(fd)
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
 * interleave) with libxml2 allowed to read schema includes and imports from the file system.
 */
export function withSchemaFiles<T> (fn: () => T): T {
  ensureRegistered()
  openGates++
  try {
    return fn()
  } finally {
    openGates--
  }
}
