/**
 * What the cases are made from, all from the project's own generator and processor: a stream
 * of clean events (the valid traffic hostile records are mixed into), a pool of base events to
 * mutate, and a pool of alerts as the processor emits them (the bodies of POST /alerts).
 */
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { createGenerator, type GeneratedRecord } from '../../src/apps/generator/index.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../../src/apps/processor/index.ts'
import { fixedClock } from '../../src/stream/clock.ts'

/** Event time of the first clean event: 2026-01-01T10:00:00Z. */
export const START_MS = Date.parse('2026-01-01T10:00:00Z')
/** Customers of both the clean stream and the base events: hostile records share their state. */
export const CUSTOMERS = 300

/** Clean events of each batch. */
export const CLEAN_PER_BATCH = 60

export interface CleanEvent {
  readonly raw: string
  readonly key: string
  readonly eventTimeMs: number
}

/**
 * The clean stream of a seed, read a window at a time: window j is events
 * [j × CLEAN_PER_BATCH, (j+1) × CLEAN_PER_BATCH). Windows must be asked for in increasing order
 * (the generator only goes forward); a case run alone skips to its batch's window.
 */
export class CleanStream {
  readonly #it: Iterator<GeneratedRecord>
  #next = 0

  constructor(seed: string) {
    this.#it = createGenerator({
      start: START_MS,
      seed: `${seed}/clean`,
      rate: 'max',
      customers: CUSTOMERS,
      invalidRate: 0,
      fraudRate: 0.05
    })[Symbol.iterator]()
  }

  window(j: number): CleanEvent[] {
    const from = j * CLEAN_PER_BATCH
    if (from < this.#next) throw new RangeError(`clean window ${j} was already read`)
    while (this.#next < from) this.#take()
    return Array.from({ length: CLEAN_PER_BATCH }, () => this.#take())
  }

  #take(): CleanEvent {
    const r = this.#it.next()
    if (r.done === true) throw new RangeError('the clean stream ended')
    this.#next++
    return { raw: r.value.raw, key: r.value.key, eventTimeMs: r.value.eventTimeMs }
  }
}

/** Base events to mutate: the generator's live traffic (fraud scenarios and invalid events included), JSON ones only. */
export function baseEvents(seed: string, count = 1_000): string[] {
  const out: string[] = []
  const g = createGenerator({
    start: START_MS,
    seed: `${seed}/base`,
    rate: 'max',
    customers: CUSTOMERS,
    fraudRate: 0.1,
    invalidRate: 0.05,
    count: count * 2
  })
  for (const r of g) {
    if (out.length === count) break
    try {
      const v: unknown = JSON.parse(r.raw)
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(r.raw)
    } catch {
      // malformed_json events: the garbage mutations cover them.
    }
  }
  return out
}

/** Alerts exactly as the processor emits them on darooghe.fraud_alerts, from a fraud-heavy stream. */
export async function baseAlerts(seed: string, events = 6_000): Promise<string[]> {
  const records = [
    ...createGenerator({
      start: START_MS,
      seed: `${seed}/alerts`,
      rate: 'max',
      customers: 100,
      fraudRate: 0.25,
      invalidRate: 0,
      count: events
    })
  ].map((r, i) => ({
    topic: 'darooghe.transactions',
    partition: 0,
    offset: i,
    key: null,
    value: Buffer.from(r.raw),
    headers: {},
    timestamp: r.eventTimeMs
  }))
  const processor = createProcessor({
    store: new MemoryStateStore(),
    ruleSet: loadRuleSet('default'),
    clock: fixedClock(START_MS + 3_600_000),
    options: processorOptions({})
  })
  const { outputs } = await processor.processBatch(records)
  const alerts = outputs
    .filter(o => o.topic === 'darooghe.fraud_alerts')
    .map(o => (typeof o.value === 'string' ? o.value : o.value!.toString('utf8')))
  if (alerts.length === 0) throw new Error('the alert corpus is empty')
  return alerts
}
