import type { Entry } from './keyed-state.ts'
import { EMPTY_LOG, type ReplayLog } from './replay-log.ts'
import { NO_TIMES, type EmittedTimes } from './emitted-times.ts'
import { NO_EVENT_TIME } from './watermark.ts'

/** What the task knows of one input partition: progress, stream time, replay log and its state. */
export class PartitionState {
  /** Last batch that saw the partition. */
  seq = 0
  /** The batch whose records of this partition wait for its load (or for the batch before). */
  waitingSeq = 0
  /** Dropped from the cache: a load that resolves later leaves it alone. */
  dropped = false
  requested = false
  loaded = false
  /** Last offset whose effects are in the state (-1: none). */
  processedOffset = -1
  /** Largest event time seen (stream time; see watermark.ts). */
  streamTimeMs = NO_EVENT_TIME
  /** Processed a new record in the current batch: its state must be written. */
  dirty = false
  /**
   * The progress value as this instance last read or wrote it in the store: the guard of the
   * next write, which fails if anyone else (a successor after a rebalance) wrote it since.
   */
  stored: string | null = null
  /** Progress value of the batch being written, to become `stored` once it is durable. */
  pending: string | null = null
  /** Outputs of the last written batch, by offset. */
  log: ReplayLog = EMPTY_LOG
  /** Outputs of the current batch, to become `log` once written. */
  next: ReplayLog | null = null
  /** Processed offset and stream time as stored (memory runs ahead of them during a batch). */
  storedOffset = -1
  storedStreamTimeMs = NO_EVENT_TIME
  /** Processing times of emitted records after `storedOffset` (see emitted-times.ts). */
  times: EmittedTimes = NO_TIMES
  /** Processing times of the current batch's records (delivery mode outputs-first). */
  nextTimes: EmittedTimes | null = null
  /** `times` and `nextTimes` merged, as written before the outputs, to become `times`. */
  emitted: EmittedTimes | null = null
  /** Bytes of the partition's journal in the store (journal mode; see journal.ts). */
  journalBytes = 0
  /** The journal as loaded, until the task has replayed it. */
  restoring: Buffer | null = null
  /** Values changed since their last snapshot: the next compaction writes them. */
  journaled: Entry<unknown>[] = []
  /** The current batch's journal entries, and their bytes. */
  entries: Buffer[] = []
  entryBytes = 0
  /** The batch's write snapshots `journaled` and deletes the journal instead of appending. */
  compacting = false
  /** One map per partition-scoped store (indexed by slot). */
  readonly slots: Map<string, Entry<unknown>>[]
  constructor(
    readonly topic: string,
    readonly partition: number,
    slotCount: number
  ) {
    this.slots = Array.from({ length: slotCount }, () => new Map())
  }
}
