/**
 * Durable keyed state of the processor (the feature store). The processor keeps its state hot
 * in memory and uses the store only in batches: one `getMany` for the keys a batch needs that
 * are not in memory, one `writeBatch` per processed batch. Implemented by Redis and by the
 * embedded in-memory store.
 */
export interface StateStore {
  /** Values of the keys in one round trip, in the same order; null where absent. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>
  /**
   * Applies all puts and deletes in one round trip, atomically (MULTI/EXEC on Redis): after a
   * crash either all of a batch's state is there or none of it.
   */
  writeBatch(
    puts: ReadonlyArray<readonly [key: string, value: string]>,
    deletes?: readonly string[]
  ): Promise<void>
  /** Whether the store answers (for /health). */
  ping(): Promise<boolean>
  close(): Promise<void>
}
