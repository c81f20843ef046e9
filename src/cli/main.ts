import { EXIT, UsageError } from './args.js'
import { stopWhenOutputCloses } from './output.js'

const HELP = `
Usage: egif <command> [options]

Commands:
  start       run the hub
  send        send documents to a participant through the hub
  validate    check documents offline against the registered document types
  inbox       list, fetch and acknowledge messages in your mailbox
  keys        make a key and certificate (or CSR); make and hash API keys
  sign        sign a document (XML-DSig / XAdES-BES, or a detached JWS for JSON)
  verify      verify a signed document against given certificates
  receipt     verify a receipt the hub signed (receipt verify)
  dead-letters  list and replay messages the hub gave up delivering (operators)
  seal        verify the EGIF-Seal of a delivery (seal verify)
  adapter     scaffold an adapter (adapter new) and run its fixtures and conformance suite (adapter test)
  trail       verify, export and prove the audit trail (trail verify | export | prove)

Run "egif <command> --help" for a command's options.
A command whose output is closed by its reader (egif … | head) stops there with exit code 141.
`

type Command = (argv: string[]) => Promise<number>

const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.js')).start,
  send: async () => (await import('./send.js')).send,
  validate: async () => (await import('./validate.js')).validate,
  inbox: async () => (await import('./inbox.js')).inbox,
  keys: async () => (await import('./keys.js')).keys,
  'dead-letters': async () => (await import('./dead-letters.js')).deadLetters,
  sign: async () => (await import('./sign.js')).sign,
  verify: async () => (await import('./verify.js')).verify,
  receipt: async () => async (argv: string[]) => await (await import('./receipt.js')).receiptOrSeal('receipt', argv),
  seal: async () => async (argv: string[]) => await (await import('./receipt.js')).receiptOrSeal('seal', argv),
  trail: async () => (await import('./trail.js')).trail,
  adapter: async () => (await import('./adapter.js')).adapter
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  // The hub keeps serving when its output is not read (runHub); every other command stops.
  if (name !== 'start') stopWhenOutputCloses()
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP.trimStart())
    return name === undefined ? EXIT.USAGE : EXIT.OK
  }
  const load = COMMANDS[name]
  if (load === undefined) {
    process.stderr.write(`egif: unknown command "${name}"\n${HELP}`)
    return EXIT.USAGE
  }
  try {
    return await (await load())(rest)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`egif ${name}: ${err.message}\nRun "egif ${name} --help" for usage.\n`)
      return EXIT.USAGE
    }
    process.stderr.write(`egif ${name}: ${(err as Error).stack ?? String(err)}\n`)
    return EXIT.UNAVAILABLE
  }
}

process.exitCode = await main(process.argv.slice(2))
