import { setFlagsFromString } from 'node:v8'

/**
 * The V8 options a hub process runs with unless Node's command line names them (either way):
 *
 * `--no-allocation-site-pretenuring`. During a burst the objects of messages in flight live long
 * enough for V8 to mark the places that make them as making long-lived objects, and from then on
 * it allocates what they make straight in the old generation, where at an ordinary load they die
 * young: the old generation fills in seconds, and each full collection's marking takes both
 * cores of a small machine for tens of milliseconds, which is the slowest answers' wait
 * (docs/performance.md, docs/operations.md).
 */
export const HUB_V8_OPTIONS: readonly string[] = ['--no-allocation-site-pretenuring']

/** An option's name as V8 reads it: without `--`, `no-` or a value; `_` and `-` alike. */
function optionName (arg: string): string {
  return arg.replace(/^--?/, '').replace(/=.*$/, '').replace(/_/g, '-').replace(/^no-/, '')
}

/** Of {@link HUB_V8_OPTIONS}, those that `execArgv` (Node's own command-line options) leaves to the hub. */
export function v8OptionsToApply (execArgv: readonly string[]): string[] {
  const named = new Set(execArgv.map(optionName))
  return HUB_V8_OPTIONS.filter((o) => !named.has(optionName(o)))
}

/**
 * Sets the hub's V8 options for this process, before it starts work, except those Node's command
 * line names: `node --allocation-site-pretenuring bin/egif.js start` keeps V8's own behaviour
 * (NODE_OPTIONS does not take V8 options of this kind). Answers the options it set.
 */
export function applyHubV8Options (execArgv: readonly string[] = process.execArgv): string[] {
  const options = v8OptionsToApply(execArgv)
  for (const o of options) setFlagsFromString(o)
  return options
}
