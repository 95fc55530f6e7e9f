import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import {
  createProcessor,
  loadRuleSet,
  processorOptions,
  type BatchResult,
  type Processor,
  type ProcessorOverrides
} from '../../src/apps/processor/index.ts'
import type { RuleSet } from '../../src/domain/rules/types.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import type { StateStore } from '../../src/ports/state-store.ts'
import { ManualClock } from '../../src/stream/clock.ts'
import { T0 } from './fixtures.ts'

export interface Out {
  readonly topic: string
  readonly key: string | null
  // Parsed JSON of a record value: tests read fields of every shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly value: any
}

export function parseOut(r: OutRecord): Out {
  const text = r.value === null ? 'null' : typeof r.value === 'string' ? r.value : r.value.toString('utf8')
  const key = r.key == null ? null : typeof r.key === 'string' ? r.key : r.key.toString('utf8')
  return { topic: r.topic, key, value: JSON.parse(text) }
}

/** Bytes of an output record as it would be produced: what "byte-identical re-emits" compares. */
export function wire(r: OutRecord): string {
  const b = (v: Buffer | string | null | undefined): string =>
    v == null ? '<null>' : Buffer.from(v).toString('base64')
  return JSON.stringify([
    r.topic,
    b(r.key),
    b(r.value),
    r.timestamp ?? null,
    r.partition ?? null,
    r.headers ?? null
  ])
}

/**
 * Drives the processor in memory with a controlled clock (cf. Kafka Streams' TopologyTestDriver).
 * `restart()` simulates a crash: a new processor instance on the same durable store.
 */
export class TopologyDriver {
  readonly clock: ManualClock
  readonly store: StateStore
  readonly ruleSet: RuleSet
  readonly overrides: ProcessorOverrides
  readonly delivery: 'state-first' | 'outputs-first'
  processor: Processor

  constructor(
    opts: {
      rules?: string | RuleSet
      store?: StateStore
      options?: ProcessorOverrides
      now?: number
      delivery?: 'state-first' | 'outputs-first'
    } = {}
  ) {
    this.clock = new ManualClock(opts.now ?? T0 + 60_000)
    this.store = opts.store ?? new MemoryStateStore()
    this.ruleSet = typeof opts.rules === 'object' ? opts.rules : loadRuleSet(opts.rules ?? 'default')
    this.overrides = opts.options ?? {}
    this.delivery = opts.delivery ?? 'state-first'
    this.processor = this.#create()
  }

  #create(): Processor {
    return createProcessor({
      store: this.store,
      ruleSet: this.ruleSet,
      clock: this.clock,
      options: processorOptions(this.overrides),
      delivery: this.delivery
    })
  }

  restart(): this {
    this.processor = this.#create()
    return this
  }

  /**
   * One batch; then, as a detector does once the outputs are acknowledged, `complete()` (unless
   * `complete: false`: the outputs went out, and the instance crashed before writing the state).
   */
  async run(records: readonly LogRecord[], opts: { complete?: boolean } = {}): Promise<BatchResult> {
    const r = await this.processor.processBatch(records)
    if (opts.complete ?? true) await r.complete()
    return r
  }

  async pipe(records: readonly LogRecord[]): Promise<Out[]> {
    return (await this.run(records)).outputs.map(parseOut)
  }

  /** Durable state (memory store only), for identity checks. */
  state(): [string, string][] {
    return (this.store as MemoryStateStore).snapshot()
  }
}

export const on = (outs: readonly Out[], topic: string): Out[] => outs.filter(o => o.topic === topic)
