import type { ByteSlab } from '../bytes/index.ts'

/**
 * Keyed state of a stream task: named stores of values, hot in memory, made durable in the
 * StateStore port once per batch. Partition-scoped stores are owned by one partition (one
 * writer: whoever owns the partition), so instances never overwrite each other's state and
 * the state of a partition moves with it. Global stores are read-only here (e.g. feature-store
 * profiles seeded by someone else).
 */
export interface StateCodec<V> {
  /** `raw` is null for a key the store does not have: return the initial value. */
  decode(raw: Buffer | null): V
  /** The value's bytes, written into the batch's slab (they live until the batch is written). */
  encode(value: V, slab: ByteSlab): Uint8Array
}

export interface StoreSpec<V> {
  /** Short name, first part of the store key. */
  readonly name: string
  /** Position of the store in the task's store list (handles are plain indexes, for speed). */
  readonly slot: number
  readonly scope: 'partition' | 'global'
  readonly codec: StateCodec<V>
}

/**
 * One cached value. `seq` is the batch that last touched it (for eviction); `dirty` = unwritten
 * changes; `journaled` = changed since its last snapshot: the changes are durable only in its
 * partition's journal, so the value must stay in memory until the next compaction.
 */
export class Entry<V> {
  seq = 0
  dirty = false
  journaled = false
  constructor(
    readonly storeKey: string,
    /** Slot of the store the value belongs to (its codec). */
    readonly slot: number,
    public value: V
  ) {}
}

/**
 * Store key layout (before the store adapter's own prefix):
 *   partition-scoped value  <prefix>{<topic>:<partition>}:<store>:<key>
 *   global value            <prefix><store>:<key>
 *   partition metadata      <prefix>{<topic>:<partition>}:p   processed offset and stream time
 *   partition replay log    <prefix>{<topic>:<partition>}:b   outputs of the last written batch
 *   emitted times           <prefix>{<topic>:<partition>}:r   processing times of emitted, not yet durable records
 *   partition journal       <prefix>{<topic>:<partition>}:j   state changes since the last snapshot (journal.ts)
 * The braces are a Redis Cluster hash tag: every key of one partition lands in one hash slot,
 * so the partition's fenced write (its guard, state, progress and journal) stays one atomic
 * script on one node. Global values are only read; they may spread over the cluster.
 */
export function partitionKey(
  prefix: string,
  store: string,
  topic: string,
  partition: number,
  key: string
): string {
  return `${partitionTag(prefix, topic, partition)}:${store}:${key}`
}

/**
 * The prefix and hash tag that start every key of a partition. The prefix (the group, for
 * `detect`) stays in front, outside the tag, so clearing a prefix still finds every key.
 */
export function partitionTag(prefix: string, topic: string, partition: number): string {
  return `${prefix}{${topic}:${partition}}`
}

export function globalKey(prefix: string, store: string, key: string): string {
  return `${prefix}${store}:${key}`
}

export function metaKey(prefix: string, topic: string, partition: number): string {
  return `${partitionTag(prefix, topic, partition)}:p`
}

export function logKey(prefix: string, topic: string, partition: number): string {
  return `${partitionTag(prefix, topic, partition)}:b`
}

export function journalKey(prefix: string, topic: string, partition: number): string {
  return `${partitionTag(prefix, topic, partition)}:j`
}

export function timesKey(prefix: string, topic: string, partition: number): string {
  return `${partitionTag(prefix, topic, partition)}:r`
}
