import t from 'tap'
import { readFileSync } from 'node:fs'
import { ERRORS } from '../../src/errors.js'

/** Every error code is documented, with its status, and the docs name no code that does not exist. */
t.test('docs/errors.md documents every code of the catalogue', async (t) => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  for (const [code, spec] of Object.entries(ERRORS)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`))
    if (row === undefined) {
      t.fail(`${code} is missing from docs/errors.md`)
      continue
    }
    t.match(row, new RegExp(`^\\| \`${code}\` \\| ${spec.status} \\|`), `${code} is documented with status ${spec.status}`)
  }
  const documented = [...doc.matchAll(/\| `(EGIF_ERR_[A-Z0-9_]+)` \|/g)].map((m) => m[1])
  for (const code of documented) t.ok(code in ERRORS, `${code} in the docs exists in the catalogue`)
  t.equal(new Set(documented).size, documented.length, 'each code documented once')
})
