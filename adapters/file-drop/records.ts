import { HubError } from '../../src/errors.js'

/** One record a legacy system wrote: a CSV row, a fixed-width line, or a whole XML file. */
export interface FileRecord {
  /** The file name without its folder and extension. */
  file: string
  /** 1-based record number in the file (1 for a whole-file document). */
  record: number
  /** Line where the record starts, for reasons. */
  line: number
  /** Fields by column name (CSV, fixed width); absent for a whole file. */
  fields?: Record<string, string>
  /** The whole file's text (XML). */
  text?: string
}

export interface FixedWidthField {
  name: string
  /** 1-based column where the field starts (in characters). */
  start: number
  length: number
}

/**
 * Splits CSV text (RFC 4180: quoted fields, doubled quotes, CRLF or LF, new lines inside quotes)
 * into rows, each with the line it starts on. Pure.
 */
export function parseCsvRows (text: string, delimiter = ','): Array<{ line: number, cells: string[] }> {
  const rows: Array<{ line: number, cells: string[] }> = []
  let cells: string[] = []
  let cell = ''
  let quoted = false
  let line = 1
  let rowLine = 1
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const endRow = (): void => {
    cells.push(cell)
    if (!(cells.length === 1 && cells[0] === '')) rows.push({ line: rowLine, cells })
    cells = []
    cell = ''
  }
  for (; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++ } else quoted = false
      } else {
        if (c === '\n') line++
        cell += c
      }
      continue
    }
    if (c === '"' && cell === '') quoted = true
    else if (c === delimiter) { cells.push(cell); cell = '' } else if (c === '\r' && text[i + 1] === '\n') { /* CRLF: the LF ends the row */ } else if (c === '\n') { endRow(); line++; rowLine = line } else cell += c
  }
  if (quoted) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `line ${rowLine}: a quoted field is not closed`)
  if (cell !== '' || cells.length > 0) endRow()
  return rows
}

/** CSV records with the header row's names as field names. */
export function csvRecords (file: string, text: string, opts: { delimiter?: string, columns?: string[] } = {}): FileRecord[] {
  const rows = parseCsvRows(text, opts.delimiter)
  const header = opts.columns ?? rows.shift()?.cells.map((h) => h.trim())
  if (header === undefined) return []
  return rows.map((r, i) => {
    if (r.cells.length !== header.length) throw new HubError('EGIF_ERR_ADAPTER_MAPPING', `line ${r.line}: ${r.cells.length} fields where the header has ${header.length}`)
    return { file, record: i + 1, line: r.line, fields: Object.fromEntries(header.map((h, k) => [h, r.cells[k]])) }
  })
}

/** Fixed-width records: one per non-blank line, fields cut by character position and trimmed. */
export function fixedWidthRecords (file: string, text: string, fields: FixedWidthField[]): FileRecord[] {
  const out: FileRecord[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  lines.forEach((l, idx) => {
    if (l.trim() === '') return
    // By code point, so a Thai character counts as one column as it does on the legacy screen.
    const chars = Array.from(l)
    out.push({
      file,
      record: out.length + 1,
      line: idx + 1,
      fields: Object.fromEntries(fields.map((f) => [f.name, chars.slice(f.start - 1, f.start - 1 + f.length).join('').trim()]))
    })
  })
  return out
}
