import type { LogRecord, OutRecord } from '../ports/log.ts'
import type { TaskJournal } from './journal.ts'
import type { KeyRequests, TaskContext } from './task-context.ts'

/**
 * The application part of a stream task (cf. Kafka Streams' Processor): pure per-record steps.
 * P is a decoded record, R the result of processing it, rendered to output records only once the
 * batch's processing time is known.
 */
export interface TaskLogic<P, R> {
  prepare(record: LogRecord): P
  /** Event time, or NaN for a record without one: it moves the partition's stream time. */
  eventTime(prepared: P): number
  requestKeys(prepared: P, keys: KeyRequests): void
  process(prepared: P, record: LogRecord, ctx: TaskContext): R
  render(result: R, record: LogRecord, processedAtMs: number, out: OutRecord[]): void
  /**
   * A record whose `prepare` or `requestKeys` threw, as a decoded record that processes into an
   * error (it needs no state). With `fail`, what keeps one record from stopping the stream: no
   * exception of a step on one record leaves the task, so a record cannot crash its reader on
   * every redelivery. Must not throw, and must give the same result for the same record.
   */
  reject(record: LogRecord, error: unknown): P
  /** A record whose `process` or `render` threw, as an error result (see `reject`). */
  fail(record: LogRecord, error: unknown): R
  /**
   * Optional: the logic's state changes as journal entries (journal.ts). With it, partition
   * state is written as a journal and snapshotted only now and then; without it, every value
   * a batch changed is written with the batch.
   */
  readonly journal?: TaskJournal<R>
}
