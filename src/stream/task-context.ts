import type { Entry, StoreSpec } from './keyed-state.ts'
import type { PartitionState } from './partition-state.ts'
import type { StateCache } from './state-cache.ts'

/** Lets the logic name the state a record needs before the batch's one `getMany`. */
export interface KeyRequests {
  need(store: StoreSpec<unknown>, key: string): void
}

/** State access while processing a record; partition-scoped stores resolve to the record's partition. */
export interface TaskContext {
  get<V>(store: StoreSpec<V>, key: string): Entry<V>
  markDirty(entry: Entry<unknown>): void
}

/**
 * What the logic sees of the task (cf. Kafka Streams' ProcessorContext): the state of the
 * record's partition. The task (the driver) points it at a partition before each step.
 */
export class TaskContextImpl implements KeyRequests, TaskContext {
  /** The partition of the record being handled; null between steps. */
  part: PartitionState | null = null
  /** The latest batch: touching a value stamps it with it (eviction). */
  seq = 0
  /** Keys `need` found cold since the task last reset it. */
  missing = 0
  readonly #cache: StateCache

  constructor(cache: StateCache) {
    this.#cache = cache
  }

  need(store: StoreSpec<unknown>, key: string): void {
    if (this.#cache.need(this.part!, store, key, this.seq)) this.missing++
  }

  get<V>(store: StoreSpec<V>, key: string): Entry<V> {
    return this.#cache.get(this.part!, store, key, this.seq)
  }

  markDirty(entry: Entry<unknown>): void {
    this.#cache.markDirty(this.part!, entry)
  }
}
