import t from 'tap'
import { describePerf, KINDS, summarizePerfScript } from '../../bench/lib/perf.js'

/** One sample as `perf script -F comm,pid,tid,ip,sym,dso` prints it: `command pid/tid`, then its frames, leaf first. */
function sample (pid: number, tid: number, frames: Array<[string, string]>, command = 'node'): string {
  return [`${command.padStart(16)} ${pid}/${tid}  `, ...frames.map(([sym, dso], i) => `\t    ${(0x1000 + i).toString(16)} ${sym} (${dso})`), ''].join('\n')
}

const NODE = '/usr/bin/node'
const KERNEL = '[kernel.kallsyms]'
const text = [
  // The hub's event loop (pid 100): JavaScript, then a scavenge that page-faults in the kernel (garbage collection, not kernel).
  sample(100, 100, [['Builtins_LoadIC', NODE], ['[unknown]', '/tmp/perf-100.map']]),
  sample(100, 100, [['clear_page_erms', KERNEL], ['asm_exc_page_fault', KERNEL], ['v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>', NODE]]),
  // A write to a socket: the kernel.
  sample(100, 100, [['tcp_sendmsg', KERNEL], ['do_writev', KERNEL], ['do_syscall_64', KERNEL], ['__GI___writev', '/usr/lib/x86_64-linux-gnu/libc.so.6']]),
  // Its check thread (tid 103): an ECDSA signature, deep in OpenSSL.
  sample(100, 103, [['__ecp_nistz256_mul_montx', NODE], ['ecp_nistz256_points_mul', NODE], ['EVP_DigestSignFinal', NODE], ['node::crypto::SignTraits::DeriveBits', NODE]]),
  sample(100, 103, [['_int_malloc', '/usr/lib/x86_64-linux-gnu/libc.so.6'], ['malloc', '/usr/lib/x86_64-linux-gnu/libc.so.6'], ['[unknown]', '[unknown]']]),
  // Another thread of the hub: V8 compiling.
  sample(100, 105, [['v8::internal::compiler::Scheduler::Run', NODE]]),
  // The sink, and a digest.
  sample(200, 200, [['sha256_block_data_order_shaext', NODE], ['node::crypto::Hash::HashUpdate', NODE]]),
  // Idle.
  sample(0, 0, [['pvm_safe_halt_hc', KERNEL], ['default_idle', KERNEL]], 'swapper'),
  // Something else on the machine, in code V8 compiled (named by the process's perf map, or not: WebAssembly).
  sample(300, 301, [['[unknown]', '/tmp/perf-300.map'], ['Builtins_JSEntry', NODE]], 'V8 Default Work')
].join('')

t.test('samples summed by whose thread they fell in', async (t) => {
  const commands: string[] = []
  const s = summarizePerfScript(text, (pid, tid, command) => {
    commands.push(command)
    return pid === 100 ? (tid === 100 ? 'hub event loop' : tid === 103 ? 'hub check threads' : 'hub, other threads') : pid === 200 ? 'sink' : 'other processes'
  })
  t.equal(s.samples, 9)
  t.same(s.byRole, { 'hub event loop': 33.3, 'hub check threads': 22.2, 'hub, other threads': 11.1, sink: 11.1, idle: 11.1, 'other processes': 11.1 })
  t.same(Object.keys(s.byRole).slice(0, 2), ['hub event loop', 'hub check threads'], 'largest first')
  t.same(commands.slice(-1), ['V8 Default Work'], 'with the command of each, spaces and all (the idle task is not asked about)')
  t.equal(commands.length, 8)
})

t.test('and by kind of work: a frame anywhere in the stack, else the frame the sample fell in', async (t) => {
  const s = summarizePerfScript(text, () => 'x')
  t.same(s.byKind, {
    'garbage collection': 11.1,
    kernel: 11.1,
    'public-key crypto': 11.1,
    'malloc and free': 11.1,
    compiling: 11.1,
    digests: 11.1,
    idle: 11.1,
    'V8 built-ins, Node and libraries': 11.1,
    'compiled JavaScript and WebAssembly': 11.1
  })
  for (const k of Object.keys(s.byKind)) t.ok((KINDS as readonly string[]).includes(k), `${k} is one of the kinds`)
})

t.test('a text with no samples, and lines that are not samples, give an empty summary', async (t) => {
  const s = summarizePerfScript('\nsome warning from perf\n\n', () => 'x')
  t.same(s, { samples: 0, byRole: {}, byKind: {} })
})

t.test('the summary in two lines of progress', async (t) => {
  const lines = describePerf(summarizePerfScript(text, () => 'hub event loop'))
  t.equal(lines.length, 2)
  t.match(lines[0], /^whole machine, % of 9 samples, by thread: hub event loop 88\.9, idle 11\.1$/)
  t.match(lines[1], /^by kind of work: .*public-key crypto 11\.1/)
})
