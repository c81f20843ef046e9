import { TRAIL_EVENT_TYPES, type TrailEvent, type TrailEventType } from './trail/event.js'

/** A gauge read at scrape time: one sample a name. */
export interface GaugeSample { name: string, help: string, value: number, labels?: Record<string, string> }

interface Counter { help: string, series: Map<string, number> }

/** Label values escaped as the Prometheus text format asks (backslash, quote, newline). */
function labelText (labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

const COUNTERS = {
  egif_trail_records_total: 'Records this process appended to its audit trail, by event type (accepted, rejected, delivered, dead-lettered, …)',
  egif_refusals_total: 'Requests refused and recorded in the trail, by error code and HTTP status',
  egif_delivery_failures_total: 'Delivery attempts that failed (retried later or dead-lettered), by receiver and error code',
  egif_dead_letters_total: 'Messages dead-lettered, by receiver'
} as const

const TYPE_KEYS = Object.fromEntries(TRAIL_EVENT_TYPES.map((type) => [type, labelText({ type })])) as Record<TrailEventType, string>

/**
 * What an operator's monitoring reads of one hub process (`GET /v1/admin/metrics`, the Prometheus
 * text format). The counters are counted where the trail records what happened, so they say what
 * the trail says; each process counts its own, from its start (a monitoring system adds the
 * processes of a cluster up and reads rates, which restarts do not disturb).
 */
export class HubMetrics {
  private readonly counters = new Map<string, Counter>()
  private readonly records: Map<string, number>

  constructor () {
    for (const [name, help] of Object.entries(COUNTERS)) this.counters.set(name, { help, series: new Map() })
    this.records = this.counters.get('egif_trail_records_total')!.series
  }

  private add (name: keyof typeof COUNTERS, labels: Record<string, string>): void {
    const series = this.counters.get(name)!.series
    const key = labelText(labels)
    series.set(key, (series.get(key) ?? 0) + 1)
  }

  /** A record the trail took (every message makes a few: counted without building labels). */
  recorded (e: TrailEvent): void {
    const key = TYPE_KEYS[e.type]
    this.records.set(key, (this.records.get(key) ?? 0) + 1)
    if (e.type === 'rejected') this.add('egif_refusals_total', { code: e.code ?? 'unknown', status: String(e.status ?? 0) })
    else if (e.type === 'attempt-failed' || e.type === 'dead-lettered') {
      const receiver = e.receiver ?? 'unknown'
      this.add('egif_delivery_failures_total', { receiver, code: e.code ?? 'unknown' })
      if (e.type === 'dead-lettered') this.add('egif_dead_letters_total', { receiver })
    }
  }

  /** The exposition: the counters, then `gauges` (names of their own) read now. */
  render (gauges: GaugeSample[]): string {
    const out: string[] = []
    for (const [name, c] of this.counters) {
      out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`)
      for (const [labels, value] of [...c.series].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) out.push(`${name}${labels} ${value}`)
    }
    for (const g of gauges) {
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name}${labelText(g.labels ?? {})} ${Number.isFinite(g.value) ? g.value : 'NaN'}`)
    }
    return out.join('\n') + '\n'
  }
}
