import { SCENARIO_LABELS } from '../../domain/event.ts'
import type { ScenarioLabel } from '../../domain/event.ts'
import { Random } from '../../domain/random.ts'
import { createArrivals, historyTimes } from './arrivals.ts'
import type { Arrivals } from './arrivals.ts'
import { CustomerState } from './customer-state.ts'
import { EventFactory } from './events.ts'
import type { EventDraft, GeneratedRecord } from './events.ts'
import { resolveGeneratorOptions } from './options.ts'
import type { GeneratorOptions, ResolvedGeneratorOptions } from './options.ts'
import { buildPopulation } from './population.ts'
import type { Customer, Population } from './population.ts'
import {
  EVENTS_PER_SCENARIO,
  FRAUD_KINDS,
  INVALID_KINDS,
  LABELLED_PER_SCENARIO,
  invalidEvent,
  startScenario
} from './scenarios.ts'
import type { ScenarioContext } from './scenarios.ts'

export interface GeneratorStats {
  history: number
  live: number
  byLabel: Record<ScenarioLabel, number>
  scenarios: number
  /** Ordinary events that had to reuse a busy customer (the rate exceeds the population's capacity). */
  crowded: number
  /** Scenario starts that found no suitable customer and fell back to another kind or an ordinary event. */
  fallbacks: number
}

export interface Generator extends Iterable<GeneratedRecord> {
  readonly options: ResolvedGeneratorOptions
  readonly population: Population
  readonly stats: GeneratorStats
  /** The next record in event-time order (history first), or undefined once count or duration is reached. */
  next(): GeneratedRecord | undefined
}

interface Job {
  at: number
  seq: number
  run: (at: number) => GeneratedRecord
}

/** Min-heap of scheduled scenario events by (time, insertion order). */
class JobQueue {
  private readonly items: Job[] = []

  get size(): number {
    return this.items.length
  }

  peek(): Job | undefined {
    return this.items[0]
  }

  push(job: Job): void {
    const a = this.items
    a.push(job)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(job, a[p] as Job)) break
      a[i] = a[p] as Job
      i = p
    }
    a[i] = job
  }

  pop(): Job | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (top === undefined || last === undefined || a.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= a.length) break
      const r = l + 1
      const c = r < a.length && before(a[r] as Job, a[l] as Job) ? r : l
      if (!before(a[c] as Job, last)) break
      a[i] = a[c] as Job
      i = c
    }
    a[i] = last
    return top
  }
}

function before(x: Job, y: Job): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq)
}

/** How many random draws look for a free customer before settling for a busy one. */
const PICK_TRIES = 16
/** Scenario customers: random draws first, then a bounded scan. */
const SCAN_LIMIT = 4096

class PulseGenerator implements Generator, ScenarioContext {
  readonly population: Population
  readonly state: CustomerState
  readonly factory: EventFactory
  readonly random: Random
  readonly stats: GeneratorStats
  private readonly arrivals: Arrivals
  private readonly jobs = new JobQueue()
  private readonly history: Float64Array
  private historyIndex = 0
  private seq = 0
  private scenarioCount = 0
  private ended = false
  private readonly end: number
  private readonly pInvalid: number
  private readonly pScenario: number

  constructor(readonly options: ResolvedGeneratorOptions) {
    const o = options
    this.population = buildPopulation(o.seed, o.customers, o.merchants)
    this.state = new CustomerState(o.customers)
    this.random = Random.derive(o.seed, 'events')
    this.factory = new EventFactory(this.population, this.random, o.declinedRate)
    this.arrivals = createArrivals(o)
    const historyFrom = o.start - o.historyDays * 86_400_000
    this.history = historyTimes(o.history, historyFrom, o.start, o, Random.derive(o.seed, 'history'))
    this.end = o.start + o.durationMs
    // Scenario follow-up events take the arrival slots they precede, so a start probability
    // p gives a labelled share f = p·L / (1 + p·(E − 1)); solve for p (and likewise invalid).
    const f = o.fraudRate
    this.pScenario = f / (LABELLED_PER_SCENARIO - f * (EVENTS_PER_SCENARIO - 1))
    this.pInvalid = o.invalidRate * (1 + this.pScenario * (EVENTS_PER_SCENARIO - 1))
    const byLabel = Object.fromEntries(SCENARIO_LABELS.map(l => [l, 0])) as Record<ScenarioLabel, number>
    this.stats = { history: 0, live: 0, byLabel, scenarios: 0, crowded: 0, fallbacks: 0 }
  }

  [Symbol.iterator](): Iterator<GeneratedRecord> {
    return {
      next: () => {
        const value = this.next()
        return value === undefined ? { done: true, value: undefined } : { done: false, value }
      }
    }
  }

  next(): GeneratedRecord | undefined {
    if (this.historyIndex < this.history.length) {
      const t = Math.floor(this.history[this.historyIndex++] as number)
      const customer = this.ordinaryCustomer(t)
      return this.count(this.emitWith(this.factory.draft(customer), t, 'legit', undefined, 'history'))
    }
    if (this.ended || this.stats.live >= this.options.count) return undefined
    const slot = this.arrivals.peek()
    const job = this.jobs.peek()
    const at = job !== undefined && job.at <= slot ? job.at : Math.floor(slot)
    if (at >= this.end) {
      this.ended = true
      return undefined
    }
    this.arrivals.next()
    if (job !== undefined && job.at <= slot) {
      this.jobs.pop()
      return this.count(job.run(job.at))
    }
    return this.count(this.decide(at))
  }

  private decide(t: number): GeneratedRecord {
    const r = this.random.next()
    if (r < this.pInvalid) return invalidEvent(this.random.pick(INVALID_KINDS), t, this)
    if (r < this.pInvalid + this.pScenario) {
      const first = this.random.int(0, FRAUD_KINDS.length - 1)
      for (let i = 0; i < FRAUD_KINDS.length; i++) {
        const kind = FRAUD_KINDS[(first + i) % FRAUD_KINDS.length] as (typeof FRAUD_KINDS)[number]
        const record = startScenario(kind, t, this)
        if (record !== undefined) return record
        this.stats.fallbacks++
      }
    }
    return this.emit(this.factory.draft(this.ordinaryCustomer(t)), t, 'legit', undefined)
  }

  private count(record: GeneratedRecord): GeneratedRecord {
    if (record.phase === 'history') this.stats.history++
    else this.stats.live++
    this.stats.byLabel[record.label]++
    return record
  }

  ordinaryCustomer(t: number): Customer {
    const { customers, activity } = this.population
    let best = -1
    for (let i = 0; i < PICK_TRIES; i++) {
      const c = activity.draw(this.random)
      if (this.state.available(c, t)) return customers[c] as Customer
      if (best < 0 || (this.state.blockedUntil[c] as number) <= t) best = c
    }
    this.stats.crowded++
    return customers[best] as Customer
  }

  findCustomer(t: number, accept: (c: number) => boolean): Customer | undefined {
    const { customers, activity } = this.population
    for (let i = 0; i < 8; i++) {
      const c = activity.draw(this.random)
      if (accept(c)) return customers[c]
    }
    const n = customers.length
    const from = this.random.int(0, n - 1)
    for (let i = 0; i < Math.min(n, SCAN_LIMIT); i++) {
      const c = (from + i) % n
      if (accept(c)) return customers[c]
    }
    return undefined
  }

  emit(draft: EventDraft, at: number, label: ScenarioLabel, scenarioId: string | undefined): GeneratedRecord {
    return this.emitWith(draft, at, label, scenarioId, 'live')
  }

  private emitWith(
    draft: EventDraft,
    at: number,
    label: ScenarioLabel,
    scenarioId: string | undefined,
    phase: 'history' | 'live'
  ): GeneratedRecord {
    const c = draft.customer.index
    this.state.record(c, at)
    this.state.recordAmount(c, draft.amount, draft.approved)
    return this.factory.record(draft, at, label, scenarioId, phase)
  }

  schedule(at: number, run: (at: number) => GeneratedRecord): void {
    this.jobs.push({ at, seq: this.seq++, run })
  }

  nextScenarioId(): string {
    this.stats.scenarios++
    return `sc_${++this.scenarioCount}`
  }
}

/**
 * A deterministic stream of payment events: the same options (seed and `start` included)
 * give the same records, byte for byte. Pure: no clock, no I/O; pace with `createPacer`.
 */
export function createGenerator(options: GeneratorOptions): Generator {
  return new PulseGenerator(resolveGeneratorOptions(options))
}
