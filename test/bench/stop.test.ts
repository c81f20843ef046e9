import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { until } from '../helpers/hub.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Processes whose parent is `pid`, with their command lines. */
function childrenOf (pid: number): Array<{ pid: number, args: string[] }> {
  const out: Array<{ pid: number, args: string[] }> = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push({ pid: Number(name), args: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0') })
    } catch { /* ended meanwhile */ }
  }
  return out
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true } catch { return false }
}
const benchDirs = (): Set<string> => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('egif-bench-')))

t.test('a bench stopped with SIGTERM mid-run stops its hubs, sink and Redis and removes their directories', { timeout: 240_000 }, async (t) => {
  const dirsBefore = benchDirs()
  // Its own process group, as a terminal would start it.
  const bench = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only=d', '--quick'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  let stderr = ''
  bench.stderr.setEncoding('utf8')
  const running = new Promise<void>((resolve, reject) => {
    bench.stderr.on('data', (d: string) => { stderr += d; if (stderr.includes('(d) saturation:')) resolve() })
    bench.once('exit', () => { reject(new Error(`the bench ended before its saturation run: ${stderr.slice(-1000)}`)) })
  })
  const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => { resolve(code) }))
  try {
    await running
    const children = childrenOf(bench.pid!)
    // Redis shows its address as its command line, and works in the directory it was given.
    const redis = children.find((c) => c.args[0].startsWith('redis-server'))
    t.ok(redis !== undefined, 'the bench runs a redis-server of its own')
    t.equal(children.filter((c) => c.args.some((a) => a.endsWith('server-main.js'))).length, 3, 'two hubs and a sink')
    const redisDir = readlinkSync(`/proc/${redis!.pid}/cwd`)
    t.match(redisDir, /egif-bench-redis-/, 'Redis has a directory of its own')

    bench.kill('SIGTERM')
    t.equal(await exited, 143, 'exits with 128 + SIGTERM')
    t.match(stderr, /SIGTERM: stopping the bench's processes/)
    // Its own processes (hubs, sink, Redis) are stopped before it exits; anything else it had (tsx's
    // esbuild service, which ends when its parent does) is given a few seconds to notice.
    const own = (c: { args: string[] }): boolean => c.args.some((a) => a.endsWith('server-main.js')) || c.args[0].startsWith('redis-server')
    t.same(children.filter((c) => own(c) && alive(c.pid)).map((c) => c.args.join(' ')), [], 'none of its processes is left')
    await until(() => !children.some((c) => alive(c.pid)), 'the bench\'s other children to end', 5000).catch(() => { /* the assertion below names them */ })
    t.same(children.filter((c) => alive(c.pid)).map((c) => c.args.join(' ')), [], 'nor any other child of it, moments later')
    t.notOk(existsSync(redisDir), 'Redis\'s directory is removed')
    t.same([...benchDirs()].filter((d) => !dirsBefore.has(d)), [], 'no directory of the run is left in the temporary directory')
  } finally {
    if (bench.exitCode === null) process.kill(-bench.pid!, 'SIGKILL')
    for (const c of childrenOf(bench.pid!)) process.kill(c.pid, 'SIGKILL')
  }
})

t.test('a hub or sink whose bench was killed outright stops by itself', { timeout: 240_000 }, async (t) => {
  const dirsBefore = benchDirs()
  const bench = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--only=bare-a', '--quick'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  let stderr = ''
  bench.stderr.setEncoding('utf8')
  await new Promise<void>((resolve, reject) => {
    bench.stderr.on('data', (d: string) => { stderr += d; if (stderr.includes('bare(a): 1 s')) resolve() })
    bench.once('exit', () => { reject(new Error(`the bench ended early: ${stderr.slice(-1000)}`)) })
  })
  const children = childrenOf(bench.pid!).filter((c) => c.args.some((a) => a.endsWith('server-main.js')))
  t.ok(children.length >= 1, 'a process of the bench runs')
  bench.kill('SIGKILL')
  const deadline = Date.now() + 15_000
  while (children.some((c) => alive(c.pid)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(children.filter((c) => alive(c.pid)).map((c) => c.args.join(' ')), [], 'each stops within seconds of losing its bench')
  t.same([...benchDirs()].filter((d) => !dirsBefore.has(d)), [], 'and removes its directory')
  for (const c of children) if (alive(c.pid)) process.kill(c.pid, 'SIGKILL')
})
