import type { ByteSlab } from '../bytes/index.ts'
import type { LogRecord, OutRecord } from '../ports/log.ts'
import type { Clock } from './clock.ts'
import type { Delivery } from './delivery.ts'
import type { JournalLayer } from './journal.ts'
import type { TaskLogic } from './logic.ts'
import type { TaskStats } from './options.ts'
import type { PartitionState } from './partition-state.ts'
import { reemit } from './replay-log.ts'
import type { TaskContextImpl } from './task-context.ts'

/**
 * One record through the logic (cf. Kafka Streams' ProcessorNode): decoded, then processed
 * once, or re-emitted from the replay log, or skipped as a duplicate; no exception of a step
 * on one record leaves it. The task decides when a record runs; this decides what it does.
 */
export class RecordHandler<P, R> {
  /** Journal entries of the batch being processed (journal mode). */
  journalSlab: ByteSlab | null = null
  readonly #logic: TaskLogic<P, R>
  readonly #ctx: TaskContextImpl
  readonly #journal: JournalLayer<R> | null
  readonly #delivery: Delivery
  readonly #clock: Clock

  constructor(
    logic: TaskLogic<P, R>,
    ctx: TaskContextImpl,
    journal: JournalLayer<R> | null,
    delivery: Delivery,
    clock: Clock
  ) {
    this.#logic = logic
    this.#ctx = ctx
    this.#journal = journal
    this.#delivery = delivery
    this.#clock = clock
  }

  prepare(rec: LogRecord): P {
    try {
      return this.#logic.prepare(rec)
    } catch (error) {
      return this.#logic.reject(rec, error)
    }
  }

  /** One record: re-emit if already processed, else evaluation; then render. */
  handle(rec: LogRecord, part: PartitionState, p: P, outputs: OutRecord[], stats: TaskStats): void {
    const start = outputs.length
    const fresh = rec.offset > part.processedOffset
    let now = Number.NaN
    if (fresh) now = this.#process(rec, part, p, outputs, stats)
    else if (reemit(part.log, rec, outputs)) stats.replayed++
    else {
      stats.duplicatesSkipped++
      return
    }
    // Re-emitted outputs count too: state-first's new replay log covers every record of the batch.
    this.#delivery.handled(part, rec.offset, fresh, now, outputs, start)
  }

  /** A record not processed before: evaluation, then render. Returns its processing time. */
  #process(rec: LogRecord, part: PartitionState, p: P, outputs: OutRecord[], stats: TaskStats): number {
    const start = outputs.length
    part.processedOffset = rec.offset
    part.dirty = true
    // Stream time only: lateness is the logic's to judge (the fraud logic: per customer).
    const t = this.#logic.eventTime(p)
    if (t > part.streamTimeMs) part.streamTimeMs = t
    let r: R
    try {
      this.#ctx.part = part
      r = this.#logic.process(p, rec, this.#ctx)
      stats.processed++
      if (this.#journal !== null) this.#journal.record(part, r, this.journalSlab!)
    } catch (error) {
      // What the record changed in memory before it threw is not journaled: a bug's effects
      // stay out of the durable state.
      r = this.#logic.fail(rec, error)
    }
    // Processing time is read per record once it is evaluated: latency ends here. A record
    // whose outputs may have gone out before (emitted times) gets the same time again.
    let now = part.times.size > 0 ? part.times.timeOf(rec.offset) : Number.NaN
    if (Number.isNaN(now)) now = this.#clock.now()
    try {
      this.#logic.render(r, rec, now, outputs)
    } catch (error) {
      outputs.length = start
      try {
        this.#logic.render(this.#logic.fail(rec, error), rec, now, outputs)
      } catch {
        // Not even its error record renders: nothing is emitted for it, and it is counted,
        // rather than failing the batch on every redelivery.
        outputs.length = start
        stats.unreported++
      }
    }
    return now
  }
}
