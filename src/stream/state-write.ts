import type { ByteSlab } from '../bytes/index.ts'
import type { StateStore, StateValue } from '../ports/state-store.ts'
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
 * (journal.ts); then the dirty values of the stores without a journal. One atomic, fenced
 * `writeBatch` to the port.
 */
export class StateWriter {
  readonly #cache: StateCache
  readonly #delivery: Delivery
  readonly #journal: JournalLayer<unknown> | null
  readonly #store: StateStore
  readonly #maxEntries: number

  constructor(
    cache: StateCache,
    delivery: Delivery,
    journal: JournalLayer<unknown> | null,
    store: StateStore,
    maxEntries: number
  ) {
    this.#cache = cache
    this.#delivery = delivery
    this.#journal = journal
    this.#store = store
    this.#maxEntries = maxEntries
  }

  /** The write of the dirty partitions of `touched`; its bytes go into `slab`. */
  encode(touched: readonly PartitionState[], slab: ByteSlab): StateWrite {
    const w: StateWrite = { puts: [], deletes: [], appends: [], slab }
    const cache = this.#cache
    const stores = cache.stores
    // Over the bound, only snapshotted values can be evicted: compact what this batch touched.
    const overCap = cache.size > this.#maxEntries
    for (const p of touched) {
      if (!p.dirty) continue
      pushProgress(cache.keyPrefix, p, w.puts)
      this.#delivery.statePuts(p, w.puts, slab)
      this.#journal?.puts(p, overCap, stores, w, slab)
    }
    for (const e of cache.dirtyValues) w.puts.push([e.storeKey, stores[e.slot]!.codec.encode(e.value, slab)])
    return w
  }

  /** Sends `w`, fenced by `guards`; its slab is recycled once the write is done. */
  async write(w: StateWrite, guards: [string, string | null][]): Promise<void> {
    try {
      if (w.puts.length + w.deletes.length + w.appends.length === 0) return
      await this.#store.writeBatch(w.puts, w.deletes, guards, w.appends)
    } finally {
      // The store keeps no reference to the bytes once the write is done (the port's contract).
      w.slab.recycle()
    }
  }

  /** The batch's state write is durable (or, pipelined, issued): everything is clean again. */
  written(touched: readonly PartitionState[]): void {
    for (const p of touched) {
      // A partition with only re-emits keeps its stored log, which still covers them.
      if (p.dirty) {
        this.#delivery.stateWritten(p)
        p.stored = p.pending
        p.storedOffset = p.processedOffset
        p.storedStreamTimeMs = p.streamTimeMs
        p.times = p.times.after(p.processedOffset)
        this.#journal?.written(p)
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
    this.#cache.clean()
  }
}
