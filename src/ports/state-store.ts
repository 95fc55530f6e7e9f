import { DaroogheError } from '../errors.ts'

/**
 * Durable keyed state of the processor (the feature store). The processor keeps its state hot
 * in memory and uses the store only in batches: one `getMany` for the keys a batch needs that
 * are not in memory, one `writeBatch` per processed batch. Implemented by Redis and by the
 * embedded in-memory store.
 */
/** A stored value: text, or bytes (binary state; stored as they are). */
export type StateValue = string | Uint8Array

export interface StateStore {
  /** Values of the keys in one round trip, in the same order, as text (UTF-8); null where absent. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>
  /** The same as bytes: for binary values. */
  getManyBytes(keys: readonly string[]): Promise<(Buffer | null)[]>
  /**
   * Applies all puts, deletes and appends in one round trip, atomically (MULTI/EXEC on Redis):
   * after a crash either all of a batch's state is there or none of it. An append adds its bytes
   * at the end of the key's value (an absent key starts empty): the processor's state journals.
   * A key appears in at most one of the three lists. The store keeps no reference to the given
   * bytes once the returned promise settled: the caller reuses that memory for later batches.
   *
   * `guards` fence the write: each key must still hold the given value (null: be absent), else
   * nothing is written and it rejects with a `STATE_CONFLICT` DaroogheError. The processor
   * guards each partition's progress key with the value it read or last wrote, so an instance
   * that lost a partition in a rebalance (a zombie) cannot overwrite its successor's state.
   */
  writeBatch(
    puts: ReadonlyArray<readonly [key: string, value: StateValue]>,
    deletes?: readonly string[],
    guards?: ReadonlyArray<readonly [key: string, expected: string | null]>,
    appends?: ReadonlyArray<readonly [key: string, bytes: Uint8Array]>
  ): Promise<void>
  /** Whether the store answers (for /health). */
  ping(): Promise<boolean>
  close(): Promise<void>
}

/** The error of a fenced write whose guard no longer holds (every adapter raises this one). */
export function stateConflict(key: string): DaroogheError {
  return new DaroogheError(
    'STATE_CONFLICT',
    `state of '${key}' changed since it was read (another instance owns the partition now); the batch is re-run on the stored state`
  )
}
