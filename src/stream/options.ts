import type { StateStore } from '../ports/state-store.ts'
import type { Clock } from './clock.ts'
import type { DeliveryMode } from './delivery.ts'
import type { StoreSpec } from './keyed-state.ts'

export interface StreamTaskOptions {
  readonly store: StateStore
  /** Stores in slot order: `stores[i].slot === i`. */
  readonly stores: readonly StoreSpec<unknown>[]
  readonly clock: Clock
  /** Cached values kept after a batch; least recently used clean ones are evicted beyond it. */
  readonly maxCachedEntries: number
  /** Prefix of every state key. */
  readonly keyPrefix: string
  /**
   * `state-first` (default): a batch's state, progress and replay log are written before its
   * outputs are handed out. `outputs-first`: only the batch's processing times are written
   * before; the caller produces the outputs, then calls `complete()` to write the state (see
   * README: Delivery). Exactly-once needs state-first: its offsets commit with the outputs.
   */
  readonly delivery?: DeliveryMode
  /**
   * With a journaling logic: a partition's journal is compacted once it would pass this many
   * bytes (0: every batch, i.e. every changed value is written with its batch). Default 16 MiB.
   */
  readonly journalMaxBytes?: number
}

export const DEFAULT_JOURNAL_MAX_BYTES = 16 << 20

export interface TaskStats {
  records: number
  /** Records processed for the first time (state updated). */
  processed: number
  /** Redelivered records whose stored outputs were re-emitted. */
  replayed: number
  /** Redelivered records older than the replay log: nothing emitted. */
  duplicatesSkipped: number
  /** Records whose processing failed and whose error record could not be rendered either. */
  unreported: number
  keysLoaded: number
  keysWritten: number
  cachedEntries: number
  /** Clock reading once the batch was evaluated (each record's own processing time is read as it is rendered). */
  processedAtMs: number
}
