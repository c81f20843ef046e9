import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { HUB_V8_OPTIONS, v8OptionsToApply } from '../../src/cli/v8-options.js'
import { hashApiKey } from '../../src/registry/participants.js'
import { freePort, startChildHub, writeConfig } from '../helpers/child-hub.js'
import { KEYS } from '../helpers/hub.js'
import { tmpDir } from '../helpers/tmp.js'

const ROOT = new URL('../..', import.meta.url).pathname

t.test('the hub sets its V8 options unless Node\'s command line names them, either way', async (t) => {
  t.same(v8OptionsToApply([]), ['--no-allocation-site-pretenuring'])
  t.same(v8OptionsToApply(['--max-old-space-size=512', '--enable-source-maps']), ['--no-allocation-site-pretenuring'])
  t.same(v8OptionsToApply(['--allocation-site-pretenuring']), [], 'V8\'s own behaviour asked for')
  t.same(v8OptionsToApply(['--no-allocation-site-pretenuring']), [], 'already set')
  t.same(v8OptionsToApply(['--allocation_site_pretenuring']), [], 'V8 reads _ as -')
  t.same(v8OptionsToApply(['--allocation-site-pretenuring-x']), ['--no-allocation-site-pretenuring'], 'another option')
})

/**
 * A process that keeps many of the objects one place makes: V8 tracks that place and (traced with
 * --trace-pretenuring-statistics) reports what it decides about it; once the hub's options are
 * set, V8 tracks nothing more.
 */
async function allocationSitesTraced (execArgv: string[]): Promise<{ traced: number, applied: string[] }> {
  const script = `
    import { applyHubV8Options } from ${JSON.stringify(new URL('../../src/cli/v8-options.ts', import.meta.url).href)}
    const applied = applyHubV8Options()
    console.log('applied ' + JSON.stringify(applied))
    const keep = []
    for (let r = 0; r < 200; r++) {
      for (let i = 0; i < 20000; i++) keep.push({ a: i, b: [i] })
      if (keep.length > 100000) keep.splice(0, 50000)
    }`
  const { stdout } = await promisify(execFile)(process.execPath, [...execArgv, '--trace-pretenuring', '--trace-pretenuring-statistics', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, maxBuffer: 64 << 20 })
  const marker = /^applied (.*)$/m.exec(stdout)
  if (marker === null) throw new Error(`no marker in the child's output:\n${stdout.slice(-2000)}`)
  // What V8 decided while the process was loading, before the options were set, does not count.
  const after = stdout.slice(marker.index)
  return { traced: after.split('\n').filter((l) => l.includes('AllocationSite(')).length, applied: JSON.parse(marker[1]) as string[] }
}

t.test('set at start, the option stops V8 from pretenuring by allocation site', async (t) => {
  const hub = await allocationSitesTraced([])
  t.same(hub.applied, HUB_V8_OPTIONS)
  t.equal(hub.traced, 0, 'no allocation site tracked')
  const v8s = await allocationSitesTraced(['--allocation-site-pretenuring'])
  t.same(v8s.applied, [], 'named on the command line: left to V8')
  t.ok(v8s.traced > 0, `V8 tracks allocation sites when left alone (${v8s.traced} decisions traced)`)
})

t.test('egif start sets them and says so when it listens', async (t) => {
  const dir = tmpDir(t)
  const cfg = writeConfig(dir, {
    hub: { id: 'V8-HUB', host: '127.0.0.1', dataDir: `${dir}/data`, logLevel: 'info' },
    documentTypes: { builtin: true },
    participants: [{ id: 'TH-A', name: { en: 'A' }, apiKeys: [hashApiKey(KEYS.A)] }],
    routes: []
  })
  const hub = await startChildHub(cfg, await freePort())
  t.teardown(() => { hub.proc.kill('SIGKILL') })
  const listening = hub.output().split('\n').filter((l) => l.includes('"listening"')).map((l) => JSON.parse(l) as { v8Options?: string[] })
  t.equal(listening.length, 1)
  t.same(listening[0].v8Options, HUB_V8_OPTIONS)
  hub.proc.kill('SIGTERM')
  t.equal(await hub.exited, 0)
})
