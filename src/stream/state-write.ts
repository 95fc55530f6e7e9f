import type { ByteSlab } from '../bytes/index.ts'
import type { StateValue } from '../ports/state-store.ts'
import type { Delivery } from './delivery.ts'
import { pushProgress } from './fence.ts'
import type { JournalLayer } from './journal.ts'
import type { PartitionState } from './partition-state.ts'
import type { StateCache } from './state-cache.ts'

/** What one batch writes, in one atomic `writeBatch`. */
export interface StateWrite {
  readonly puts: [string, StateValue][]
  readonly deletes: string[]
  readonly appends: [string, Uint8Array][]
  /** Where the bytes were written: recycled once the write is done. */
  readonly slab: ByteSlab
}

/**
 * A batch's state write, layer by layer: per dirty partition its progress (fence.ts), what the
 * delivery order stores beside it (the replay log), its journal entries or snapshots
 * (journal.ts); then the dirty values of the stores without a journal. Bytes go into `slab`.
 */
export function encodeStateWrite(
  cache: StateCache,
  delivery: Delivery,
  journal: JournalLayer<unknown> | null,
  touched: readonly PartitionState[],
  slab: ByteSlab,
  maxEntries: number
): StateWrite {
  const w: StateWrite = { puts: [], deletes: [], appends: [], slab }
  const stores = cache.stores
  // Over the bound, only snapshotted values can be evicted: compact what this batch touched.
  const overCap = cache.size > maxEntries
  for (const p of touched) {
    if (!p.dirty) continue
    pushProgress(cache.keyPrefix, p, w.puts)
    delivery.statePuts(p, w.puts, slab)
    journal?.puts(p, overCap, stores, w, slab)
  }
  for (const e of cache.dirtyValues) w.puts.push([e.storeKey, stores[e.slot]!.codec.encode(e.value, slab)])
  return w
}

/** The batch's state write is durable (or, pipelined, issued): everything is clean again. */
export function stateWritten(
  cache: StateCache,
  delivery: Delivery,
  journal: JournalLayer<unknown> | null,
  touched: readonly PartitionState[]
): void {
  for (const p of touched) {
    // A partition with only re-emits keeps its stored log, which still covers them.
    if (p.dirty) {
      delivery.stateWritten(p)
      p.stored = p.pending
      p.storedOffset = p.processedOffset
      p.storedStreamTimeMs = p.streamTimeMs
      p.times = p.times.after(p.processedOffset)
      journal?.written(p)
    }
    p.entries = []
    p.entryBytes = 0
    p.compacting = false
    p.pending = null
    p.next = null
    p.nextTimes = null
    p.emitted = null
    p.dirty = false
  }
  cache.clean()
}
