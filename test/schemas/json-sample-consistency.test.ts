import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// What JSON Schema cannot say: check digits, sums and date order. The valid samples and the demo
// messages must get these right too, since integrators copy them.

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const demoDir = join(repo, 'examples/gin-demo/messages')

interface DemoMessage { file: string, documentType: string }
const demo = (JSON.parse(readFileSync(join(demoDir, 'index.json'), 'utf8')) as { messages: DemoMessage[] }).messages

function documentsOf (typeId: string): Array<{ name: string, doc: any }> {
  const dir = join(repo, 'schemas', typeId, 'samples/valid')
  const files = [
    ...readdirSync(dir).sort().map((f) => join(dir, f)),
    ...demo.filter((m) => m.documentType === typeId).map((m) => join(demoDir, m.file))
  ]
  return files.map((f) => ({ name: basename(f), doc: JSON.parse(readFileSync(f, 'utf8')) }))
}

/** Thai citizen id check digit: (11 - Σ d[i]·(13 - i) mod 11) mod 10 over the first twelve digits. */
function citizenIdCheckDigitOk (id: string): boolean {
  const d = [...id].map(Number)
  const sum = d.slice(0, 12).reduce((s, x, i) => s + x * (13 - i), 0)
  return (11 - (sum % 11)) % 10 === d[12]
}

const satang = (x: number): number => Math.round(x * 100)

t.test('the citizen-id check digit rule', async (t) => {
  // 1·13 + 1·12 + 0·11 + 1·10 + 7·9 + 0·8 + 0·7 + 2·6 + 3·5 + 0·4 + 7·3 + 0·2 = 146; 146 mod 11 = 3; 11 - 3 = 8
  t.ok(citizenIdCheckDigitOk('1101700230708'), 'a worked example')
  t.notOk(citizenIdCheckDigitOk('1101700230705'), 'the same with a wrong check digit')
})

t.test('personnel-record-transfer documents are consistent', async (t) => {
  const docs = documentsOf('personnel-record-transfer')
  t.ok(docs.length >= 4, 'valid samples and the demo message')
  for (const { name, doc } of docs) {
    t.ok(citizenIdCheckDigitOk(doc.person.citizenId), `${name}: citizen id check digit`)
    const history = doc.serviceHistory as Array<{ startDate: string, endDate?: string }>
    for (let i = 0; i < history.length; i++) {
      const e = history[i]
      if (e.endDate !== undefined) t.ok(e.endDate >= e.startDate, `${name}: entry ${i + 1} ends after it starts`)
      if (i > 0) t.ok(e.startDate > history[i - 1].startDate, `${name}: entry ${i + 1} is in date order`)
    }
    t.equal(history[history.length - 1].endDate, undefined, `${name}: the current appointment is open`)
    t.ok(doc.effectiveDate > history[history.length - 1].startDate, `${name}: the transfer takes effect after the current appointment began`)
    t.ok(doc.person.birthDate < history[0].startDate, `${name}: born before the first appointment`)
  }
})

t.test('budget-disbursement-request documents are consistent', async (t) => {
  const docs = documentsOf('budget-disbursement-request')
  t.ok(docs.length >= 4, 'valid samples and the demo message')
  for (const { name, doc } of docs) {
    const items = doc.lineItems as Array<{ lineNo: number, amount: number }>
    const sum = items.reduce((s, x) => s + satang(x.amount), 0)
    t.equal(satang(doc.totalAmount), sum, `${name}: totalAmount is the sum of the line items`)
    for (const x of items) t.equal(satang(x.amount), x.amount * 100, `${name}: line ${x.lineNo} has at most two decimals`)
    t.same(items.map((x) => x.lineNo), items.map((_, i) => i + 1), `${name}: lines are numbered 1..n`)
    t.ok((doc.budgetCode as string).startsWith(doc.agency.code as string), `${name}: the budget code starts with the agency code`)
    t.ok(doc.approver.approvedDate <= doc.requestedDate, `${name}: approved before it is sent`)
  }
})
