/**
 * `darooghe analyze` throughput: N generator events (a 7-day history for 100,000 customers)
 * decoded, validated and folded into every aggregate, then the reports computed. Events are
 * generated in memory chunk by chunk, outside the timed sections, so this measures the
 * analytics (JSON decode included), not disk, Kafka or MongoDB.
 */
import { createGenerator } from '../../src/apps/generator/index.ts'
import { Analysis, SkipCounter, toRow, type Row } from '../../src/apps/analytics/index.ts'

const CHUNK = 10_000
const CUSTOMERS = 100_000

export interface AnalyzeSuiteResult {
  readonly events: number
  readonly seconds: number
  readonly eventsPerSecond: number
  readonly peakRssMb: number
}

export async function analyzeSuite(
  opts: { events: number } = { events: 1_000_000 }
): Promise<AnalyzeSuiteResult> {
  const generator = createGenerator({
    start: Date.parse('2026-01-12T00:00:00Z'),
    seed: 'bench-analyze',
    customers: CUSTOMERS,
    history: opts.events,
    historyDays: 7,
    count: 0
  })
  const analysis = new Analysis()
  const skips = new SkipCounter()
  let timedMs = 0
  let peakRss = process.memoryUsage.rss()
  let events = 0
  let chunk: string[] = []
  const flush = (): void => {
    const t0 = performance.now()
    const rows: Row[] = []
    for (const text of chunk) {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        skips.add('not_json')
        continue
      }
      const row = toRow(value)
      if (typeof row === 'string') skips.add(row)
      else rows.push(row)
    }
    analysis.addBatch(rows)
    timedMs += performance.now() - t0
    chunk = []
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }
  for (let r = generator.next(); r !== undefined; r = generator.next()) {
    chunk.push(r.raw)
    events++
    if (chunk.length >= CHUNK) flush()
  }
  if (chunk.length > 0) flush()
  const t0 = performance.now()
  const results = analysis.results()
  timedMs += performance.now() - t0
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
  if (results.summary.transactions + skips.total !== events) throw new Error('analyze bench: rows were lost')
  const seconds = timedMs / 1000
  return { events, seconds, eventsPerSecond: events / seconds, peakRssMb: peakRss / 1_048_576 }
}
