/**
 * The partitioned log (Kafka, or the embedded in-process log). The processor and the apps
 * talk to these interfaces only; `src/adapters/kafka` and `src/adapters/memory` implement them
 * with the same semantics: partitions, offsets, consumer groups, commits of the next offset.
 */

/** A record read from the log. Immutable. */
export interface LogRecord {
  readonly topic: string
  readonly partition: number
  /** Offsets are below 2^53 in any real log, so a number (not a bigint) keeps the hot path cheap. */
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Readonly<Record<string, string>>
  /** Record timestamp, epoch ms: the ingestion time of the event. */
  readonly timestamp: number
}

/** A record to append. Keys route to partitions by the log's partitioner (murmur2 on Kafka). */
export interface OutRecord {
  readonly topic: string
  readonly key?: Buffer | string | null
  readonly value: Buffer | string | null
  readonly headers?: Readonly<Record<string, string>>
  readonly partition?: number
  /** Record timestamp, epoch ms; default: the time of sending. */
  readonly timestamp?: number
}

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** The next offset to read, as committed to the group (last processed + 1). */
export interface PartitionOffset extends TopicPartition {
  readonly offset: number
}

/** Where an appended record landed. */
export interface RecordAck {
  readonly partition: number
  readonly offset: number
}

export interface LogProducer {
  /**
   * Appends all records; resolves once every one is acknowledged by the log, with one ack per
   * record in the same order. Keyed records go to `hash(key) % partitions` with Kafka's Java
   * murmur2 partitioner, so every client puts a customer's events on the same partition.
   */
  send(records: readonly OutRecord[]): Promise<RecordAck[]>
  /**
   * True when `send` keeps no reference to the records' bytes once it settled (it copied what it
   * wrote), so that the caller may reuse that memory. An in-memory log keeps them: absent there.
   */
  readonly copiesRecords?: boolean
  close(): Promise<void>
}

/**
 * Callbacks of a consumer run. Batches are delivered one at a time: the next batch is not
 * delivered before `onBatch` resolves, and the offsets of a batch are committed only after its
 * `onBatch` resolved (at-least-once) and, when it returned one, its `durable` promise resolved.
 */
export interface BatchHandler {
  /**
   * May return `{ durable }` to take the next batch while this one's last writes are in flight
   * (pipelining): the batch's offsets are committed once `durable` resolves, in batch order.
   * If `durable` rejects, nothing after it is committed and the consumer rewinds: every owned
   * partition goes back to its committed offset, `onAssignment` is called again with the same
   * partitions, and the batches since are delivered again.
   */
  onBatch(records: readonly LogRecord[]): Promise<void | BatchInFlight>
  /** The group gave us these partitions (and took away the ones no longer listed). */
  onAssignment?(assigned: readonly TopicPartition[]): void | Promise<void>
}

/** A delivered batch whose effects are not yet durable (see BatchHandler.onBatch). */
export interface BatchInFlight {
  readonly durable: Promise<void>
}

export interface LogConsumer {
  /** Consumes until `close()`; rejects on a fatal error. */
  run(handler: BatchHandler): Promise<void>
  /** Partitions currently owned by this member. */
  assignment(): readonly TopicPartition[]
  /**
   * Optional: the batch the next `onBatch` will receive (the same array), when it is already
   * fetched and the assignment does not change first; null otherwise. A handler waiting for
   * I/O can start decoding it.
   */
  peekNext?(): readonly LogRecord[] | null
  /**
   * Optional: the owned partitions (`topic:partition`) that have records not fetched yet, as
   * of the last fetch: a reader catching up (after an outage, say), not one with nothing to
   * read. Event-time readers must not take such a partition for idle.
   */
  behind?(): ReadonlySet<string>
  close(): Promise<void>
}

export interface ConsumerOptions {
  readonly groupId: string
  readonly topics: readonly string[]
  /** Where to start when the group has no committed offset. Default 'earliest'. */
  readonly fromBeginning?: boolean
  /** Largest batch handed to `onBatch`. Default 5 000. */
  readonly maxBatchRecords?: number
  /** Longest the broker waits to fill a fetch, ms. Default 100. */
  readonly maxWaitMs?: number
  /** Only committed records of transactions (read_committed). Default true. */
  readonly readCommitted?: boolean
}

export interface TopicInfo {
  readonly name: string
  readonly partitions: number
}

export interface LogAdmin {
  createTopics(topics: readonly { name: string; partitions: number }[]): Promise<void>
  deleteTopics(names: readonly string[]): Promise<void>
  listTopics(): Promise<TopicInfo[]>
  /** End offset (next offset to be written) of each partition. */
  endOffsets(topic: string): Promise<number[]>
  /** Committed offsets of a group for a topic, -1 where none. */
  committedOffsets(groupId: string, topic: string): Promise<number[]>
  close(): Promise<void>
}

/**
 * Why a consumer could not decode a record batch: its compression failed to decompress
 * (`decompress_failed`), its compression bits name no codec (`unknown_codec`), its records do not
 * parse (`corrupt_records`), or it is in a message format other than v2 (`unsupported_format`).
 */
export type UndecodableReason =
  'decompress_failed' | 'unknown_codec' | 'corrupt_records' | 'unsupported_format'

/** A record batch of the log that no record could be read from. Its bytes stay in the log. */
export interface UndecodableBatch {
  readonly reason: UndecodableReason
  readonly topic: string
  readonly partition: number
  readonly baseOffset: number
  readonly lastOffset: number
  /** `none`, `gzip`, `snappy`, `lz4`, `zstd`, or `unknown (n)`. */
  readonly codec: string
  /** One line: what the decoder said. */
  readonly cause: string
}

/**
 * The record a consumer hands out in place of a batch it could not decode: one per batch, at
 * the batch's last offset (so that committing it moves past the batch), with a null key and
 * value. Readers that know it turn it into an error record (the detector:
 * `ERR_UNDECODABLE_BATCH`); the others reject it like any record without a value. A class, not
 * a header: a record someone produced can never pass for one.
 */
export class UndecodableBatchRecord implements LogRecord {
  readonly key = null
  readonly value = null
  readonly headers: Readonly<Record<string, string>> = Object.freeze({})
  readonly topic: string
  readonly partition: number
  readonly offset: number

  constructor(
    readonly batch: UndecodableBatch,
    /** The batch's max timestamp when its header had one, else the time it was read. */
    readonly timestamp: number
  ) {
    this.topic = batch.topic
    this.partition = batch.partition
    this.offset = batch.lastOffset
  }
}

/** The undecodable batch a record stands for, or null for an ordinary record. */
export function undecodableBatchOf(record: LogRecord): UndecodableBatch | null {
  return record instanceof UndecodableBatchRecord ? record.batch : null
}
