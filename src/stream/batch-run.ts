import type { ByteSlab } from '../bytes/index.ts'
import type { LogRecord, OutRecord } from '../ports/log.ts'
import type { TaskStats } from './options.ts'
import type { PartitionState } from './partition-state.ts'

/** A batch between its in-memory processing (`StreamTask#begin`) and its load and write (`#finish`). */
export interface BatchRun<P> {
  readonly records: readonly LogRecord[]
  readonly seq: number
  readonly stats: TaskStats
  readonly outputs: OutRecord[]
  /** Partitions of the batch, and those of them to load first. */
  readonly touched: PartitionState[]
  readonly toLoad: PartitionState[]
  /** Indexes of the records that wait (for the load, or for the awaited batch), and their decoded forms. */
  readonly deferredAt: number[]
  readonly deferred: P[]
  readonly journalSlab: ByteSlab | null
  /** Processing ahead: the awaited batch's partitions, whose records wait for it. */
  readonly blocked: ReadonlySet<PartitionState> | null
  /** Processing ahead: the load started at once, and the records it let run, or why it failed. */
  loading: Promise<void> | null
  loadError: unknown
  loaded: boolean
  /** Dropped (`#discard`): an ahead load that resolves later must not touch anything. */
  discarded: boolean
}

export function newBatchRun<P>(
  records: readonly LogRecord[],
  seq: number,
  journalSlab: ByteSlab | null,
  blocked: ReadonlySet<PartitionState> | null
): BatchRun<P> {
  return {
    records,
    seq,
    stats: {
      records: records.length,
      processed: 0,
      replayed: 0,
      duplicatesSkipped: 0,
      unreported: 0,
      keysLoaded: 0,
      keysWritten: 0,
      cachedEntries: 0,
      processedAtMs: 0
    },
    outputs: [],
    touched: [],
    toLoad: [],
    deferredAt: [],
    deferred: [],
    journalSlab,
    blocked,
    loading: null,
    loadError: null,
    loaded: false,
    discarded: false
  }
}
