import { DaroogheError } from '../../errors.ts'
import { RuleEngine } from '../../domain/rules/engine.ts'
import type { RuleSet } from '../../domain/rules/types.ts'
import type { LogRecord, OutRecord, TopicPartition } from '../../ports/log.ts'
import type { StateStore } from '../../ports/state-store.ts'
import type { Clock } from '../../stream/clock.ts'
import { ByteSlab, ChunkPool } from '../../bytes/index.ts'
import { StreamTask, type TaskStats } from '../../stream/task.ts'
import { FraudLogic } from './fraud-logic.ts'
import { LogicStats, type Outcome } from './records.ts'
import { DEFAULT_PROCESSOR_OPTIONS, systemClock, type ProcessorOptions } from './options.ts'
import { STORES } from './stores.ts'

export interface ProcessorDeps {
  /** Durable keyed state (Redis, or the in-memory store). */
  readonly store: StateStore
  /** The rules to apply (see loadRuleSet). */
  readonly ruleSet: RuleSet
  /** Processing-time clock; latency and processed_at come from it. Default: the wall clock. */
  readonly clock?: Clock
  /** Frozen options (processorOptions()). Default DEFAULT_PROCESSOR_OPTIONS. */
  readonly options?: ProcessorOptions
  /**
   * When the batch's state is written (see src/stream/README.md, Delivery):
   *   state-first (default)  state, progress and replay log before the outputs are handed out;
   *                          needed by exactly-once (offsets commit with the outputs).
   *   outputs-first          only the records' processing times before; the caller produces
   *                          the outputs, then `complete()` writes the state. Half the bytes.
   */
  readonly delivery?: 'state-first' | 'outputs-first'
}

export interface BatchStats extends TaskStats {
  approved: number
  fraud: number
  alerts: number
  errors: number
  /** Decisions late for their customer (also counted in approved or fraud). */
  late: number
  /** Events whose transaction id was already among the customer's recent ones (included in duplicatesSkipped). */
  duplicateTransactionIds: number
  errorCodes: LogicStats['errorCodes']
  ruleHits: Record<string, number>
  /** Processing latency (processed_at − record timestamp) over the batch's decisions. */
  latencyMaxMs: number
  latencySumMs: number
  /** The `nowMs` the batch was handed in with. */
  receivedAtMs: number
}

export interface BatchResult {
  /** In record order; produce them all, then commit the batch's offsets. */
  readonly outputs: OutRecord[]
  readonly stats: BatchStats
  /** Per first-time record, when `collectOutcomes` is on; empty otherwise. */
  readonly outcomes: Outcome[]
  /**
   * Call once the outputs are acknowledged, before committing offsets: writes the batch's state
   * (outputs-first; nothing to do state-first). The next batch may run while the write is in
   * flight (its offsets are committed only after this resolved). If it rejects, the processor
   * drops its memory and refuses batches until `onAssignment`: start again from the committed
   * offsets (every batch since is run again, emitting the same outputs).
   */
  complete(): Promise<void>
  /**
   * Optional, outputs-first: encodes the state write ahead, e.g. while the outputs are in
   * flight, so that `complete()` only sends it (the same bytes either way).
   */
  stage(): void
  /**
   * Optional, after `complete()` resolved: the caller holds none of the outputs any more (its
   * producer copied them and they are acknowledged), so their memory goes to a later batch's
   * outputs. Every output's bytes may be overwritten from then on. Nothing happens state-first,
   * where the processor keeps the last outputs of each partition for re-emits.
   */
  release(): void
}

export interface Processor {
  readonly options: ProcessorOptions
  readonly ruleSet: RuleSet
  /**
   * Decodes, validates, evaluates and routes a poll batch: one state read for what is not hot,
   * one atomic state write (state + processed offsets + replay log; outputs-first: processing
   * times), then the outputs. The caller produces the outputs, calls `complete()`, and commits
   * offsets only after that resolved. If either rejects, run the batch again as is: a batch
   * run again emits the same outputs byte for byte and never counts twice.
   * `nowMs` is when the batch was received (stats only): processing time is read from the clock.
   * One batch at a time: a call while another batch runs is rejected.
   */
  processBatch(records: readonly LogRecord[], nowMs?: number): Promise<BatchResult>
  /**
   * Optional head start, while this batch's outputs are in flight (outputs-first, after
   * `stage()`): decodes the records of the next batch now and, when none of their partitions
   * is one of this batch's, evaluates them too, in memory; nothing is written. The next
   * `processBatch` of this same array uses the work; any other call, or this batch failing,
   * discards it.
   */
  prepareAhead(records: readonly LogRecord[]): void
  /**
   * The error of a state write that failed (`complete()`), until `onAssignment`: batches are
   * refused meanwhile, the caller rewinds to the committed offsets. Null otherwise.
   */
  failure(): unknown
  /** The partitions this instance owns now: state of the others is dropped from memory. */
  onAssignment(partitions: readonly TopicPartition[]): void
  /** Stream time and processed offset of the partitions in memory. */
  partitions(): { topic: string; partition: number; streamTimeMs: number; processedOffset: number }[]
  cachedEntries(): number
}

/** Builds the fraud processor over a state store (Kafka driver, embedded log and file mode share it). */
export function createProcessor(deps: ProcessorDeps): Processor {
  const options = deps.options ?? DEFAULT_PROCESSOR_OPTIONS
  const clock = deps.clock ?? systemClock
  const logic = new FraudLogic(new RuleEngine(deps.ruleSet), options)
  const task = new StreamTask(logic, {
    store: deps.store,
    stores: STORES,
    clock,
    maxCachedEntries: options.maxCachedEntries,
    keyPrefix: options.keyPrefix,
    journalMaxBytes: options.journalMaxBytes,
    delivery: deps.delivery ?? 'state-first'
  })
  const complete = async (): Promise<void> => {
    await task.complete()
  }
  let running = false
  // Output chunks come back through release(); state-first keeps outputs (the replay log).
  const outputPool = deps.delivery === 'outputs-first' ? new ChunkPool() : null
  /** The next batch's head start: decoded records, or (prepared null) processed ones with their outputs' stats and bytes. */
  let ahead: {
    records: readonly LogRecord[]
    prepared: ReturnType<typeof task.prepare> | null
    stats: LogicStats
    slab: ByteSlab
  } | null = null
  return {
    options,
    ruleSet: deps.ruleSet,
    async processBatch(records, nowMs = clock.now()) {
      if (running) throw new DaroogheError('INTERNAL', 'processBatch called while another batch is running')
      running = true
      const mine = ahead?.records === records ? ahead : null
      ahead = null
      // Outputs: the event's bytes plus about 500 bytes of decision (alerts are rare).
      const s = (logic.renderer.stats = mine?.stats ?? new LogicStats())
      const slab = (logic.renderer.slab = mine?.slab ?? ByteSlab.forBatch(records.length, 1_200, outputPool))
      const prepared = mine?.prepared ?? undefined
      let result
      try {
        result = await task.run(records, prepared)
      } finally {
        running = false
      }
      const { outputs, stats } = result
      return {
        outputs,
        outcomes: s.outcomes,
        complete,
        stage: () => task.stage(),
        release: () => slab.recycle(),
        stats: {
          ...stats,
          duplicatesSkipped: stats.duplicatesSkipped + s.duplicateTransactionIds,
          approved: s.approved,
          fraud: s.fraud,
          alerts: s.alerts,
          errors: s.errors,
          late: s.late,
          duplicateTransactionIds: s.duplicateTransactionIds,
          errorCodes: s.errorCodes,
          ruleHits: s.ruleHits,
          latencyMaxMs: s.latencyMaxMs,
          latencySumMs: s.latencySumMs,
          receivedAtMs: nowMs
        }
      }
    },
    prepareAhead(records) {
      ahead = null
      const stats = (logic.renderer.stats = new LogicStats())
      const slab = (logic.renderer.slab = ByteSlab.forBatch(records.length, 1_200, outputPool))
      try {
        ahead = { records, prepared: task.processAhead(records), stats, slab }
      } catch {
        // Nothing of it stays (the task dropped what it touched): the batch meets the same
        // problem again in its own processBatch, which reports it.
      }
    },
    onAssignment: partitions => task.onAssignment(partitions),
    failure: () => task.failure,
    partitions: () => task.partitions(),
    cachedEntries: () => task.cachedEntries()
  }
}
