import { compatibilityPartitioner } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { LogRecord, OutRecord, RecordAck, TopicInfo } from '../../ports/log.ts'
import { MemoryLogAdmin } from './log-admin.ts'
import { MemoryLogConsumer, type MemoryConsumerOptions } from './log-consumer.ts'
import { type AssignmentStrategy, ConsumerGroup, type GroupMember } from './log-group.ts'
import { MemoryLogProducer } from './log-producer.ts'

export interface MemoryLogOptions {
  /** Partitions of a topic created by its first produce. Default 6. */
  readonly defaultPartitions?: number
  /** How groups spread partitions over their members. Default 'range'. */
  readonly assignment?: AssignmentStrategy
  /**
   * Records kept per partition; older ones are dropped and the partition's start offset
   * moves on (offsets are never reused). Default unbounded.
   */
  readonly retentionRecords?: number
  /** Clock for the timestamps of records sent without one. Default `Date.now`. */
  readonly now?: () => number
}

interface Partition {
  /** Offset of records[0]. */
  start: number
  records: LogRecord[]
}

interface Topic {
  readonly name: string
  readonly partitions: Partition[]
  /** Next partition of an unkeyed record. */
  roundRobin: number
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * The embedded partitioned log: the broker of `darooghe demo`, with Kafka's semantics —
 * topics of N partitions, append-only partitions with offsets from 0, keys routed with the
 * Java client's murmur2 (so a key lands on the same partition number as on Kafka), consumer
 * groups with a generation and a partition assignment, committed offsets per group.
 * Everything is synchronous and in this process; the producer and consumer adapters add the
 * port's asynchrony.
 */
export class MemoryLog {
  readonly #topics = new Map<string, Topic>()
  readonly #groups = new Map<string, ConsumerGroup>()
  readonly #listeners = new Map<string, Set<() => void>>()
  readonly #defaultPartitions: number
  readonly #strategy: AssignmentStrategy
  readonly #retention: number
  readonly #now: () => number

  constructor(options: MemoryLogOptions = {}) {
    this.#defaultPartitions = checkCount(options.defaultPartitions ?? 6, 'defaultPartitions')
    this.#strategy = options.assignment ?? 'range'
    this.#retention = options.retentionRecords ?? Infinity
    if (!(this.#retention >= 1)) throw new DaroogheError('CONFIG', 'retentionRecords must be at least 1')
    this.#now = options.now ?? Date.now
  }

  producer(): MemoryLogProducer {
    return new MemoryLogProducer(this)
  }

  consumer(options: MemoryConsumerOptions): MemoryLogConsumer {
    return new MemoryLogConsumer(this, options)
  }

  admin(): MemoryLogAdmin {
    return new MemoryLogAdmin(this)
  }

  /** Creates a topic; false if it already exists (its partition count is left as it is). */
  createTopic(name: string, partitions: number = this.#defaultPartitions): boolean {
    if (typeof name !== 'string' || name.length === 0) {
      throw new DaroogheError('INTERNAL', 'a topic needs a non-empty name')
    }
    if (this.#topics.has(name)) return false
    const count = checkCount(partitions, `partitions of '${name}'`)
    const parts = Array.from({ length: count }, () => ({ start: 0, records: [] }))
    this.#topics.set(name, { name, partitions: parts, roundRobin: 0 })
    this.#rebalanceSubscribers(name)
    return true
  }

  /** Deletes a topic, its records and every group's commits on it; false if unknown. */
  deleteTopic(name: string): boolean {
    if (!this.#topics.delete(name)) return false
    for (const g of this.#groups.values()) g.forgetTopic(name)
    this.#rebalanceSubscribers(name)
    return true
  }

  listTopics(): TopicInfo[] {
    return [...this.#topics.values()]
      .map(t => ({ name: t.name, partitions: t.partitions.length }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Partitions of a topic, 0 if unknown. */
  partitionCount(topic: string): number {
    return this.#topics.get(topic)?.partitions.length ?? 0
  }

  /**
   * Appends all records in one synchronous step (no reader sees half of them) and returns
   * where each landed, in order. Unknown topics are created with the default partition count.
   */
  append(records: readonly OutRecord[]): RecordAck[] {
    const targets = new Array<Topic>(records.length)
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      if (!this.#topics.has(r.topic)) this.createTopic(r.topic)
      const t = this.#topics.get(r.topic)!
      if (
        r.partition !== undefined &&
        !(Number.isInteger(r.partition) && r.partition >= 0 && r.partition < t.partitions.length)
      ) {
        throw new DaroogheError('INTERNAL', `topic '${r.topic}' has no partition ${r.partition}`)
      }
      targets[i] = t
    }
    const now = this.#now()
    const acks = new Array<RecordAck>(records.length)
    const touched = new Set<Topic>()
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const t = targets[i]!
      const key = toBuffer(r.key)
      const partition = r.partition ?? this.#partitionFor(t, key)
      const part = t.partitions[partition]!
      const offset = part.start + part.records.length
      part.records.push(
        Object.freeze({
          topic: t.name,
          partition,
          offset,
          key,
          value: toBuffer(r.value),
          headers: r.headers ? Object.freeze({ ...r.headers }) : EMPTY_HEADERS,
          timestamp: r.timestamp ?? now
        })
      )
      acks[i] = { partition, offset }
      touched.add(t)
    }
    for (const t of touched) {
      for (const part of t.partitions) this.#trim(part)
      for (const fn of this.#listeners.get(t.name) ?? []) fn()
    }
    return acks
  }

  #partitionFor(t: Topic, key: Buffer | null): number {
    const n = t.partitions.length
    // The Kafka adapter's choice exactly: compatibilityPartitioner masks murmur2 to positive.
    if (key !== null) return compatibilityPartitioner({ topic: t.name, key }, key) % n
    return t.roundRobin++ % n
  }

  #trim(part: Partition): void {
    // Trimming in steps keeps appends amortised O(1) instead of a shift per record.
    const excess = part.records.length - this.#retention
    if (excess <= 0 || excess < Math.min(this.#retention, 1024)) return
    part.records.splice(0, excess)
    part.start += excess
  }

  /** First offset still held per partition ([] for an unknown topic). */
  startOffsets(topic: string): number[] {
    return this.#topics.get(topic)?.partitions.map(p => p.start) ?? []
  }

  /** Next offset to be written per partition ([] for an unknown topic). */
  endOffsets(topic: string): number[] {
    return this.#topics.get(topic)?.partitions.map(p => p.start + p.records.length) ?? []
  }

  /**
   * Up to `maxRecords` records of one partition from `fromOffset` on (from the start offset if
   * that is older); [] for an unknown topic or partition. For the dashboard's topic browser.
   */
  readRange(topic: string, partition: number, fromOffset: number, maxRecords: number): LogRecord[] {
    const part = this.#topics.get(topic)?.partitions[partition]
    if (!part || maxRecords <= 0) return []
    const from = Math.max(0, fromOffset - part.start)
    return part.records.slice(from, from + maxRecords)
  }

  /** The `n` newest records of a topic over all partitions, oldest first (by timestamp). */
  lastRecords(topic: string, n: number): LogRecord[] {
    const t = this.#topics.get(topic)
    if (!t || n <= 0) return []
    const tails = t.partitions.flatMap(p => p.records.slice(-n))
    tails.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
    return tails.slice(-n)
  }

  /** Committed next offsets of a group per partition, -1 where none ([] for an unknown topic). */
  committedOffsets(groupId: string, topic: string): number[] {
    const t = this.#topics.get(topic)
    if (!t) return []
    const g = this.#groups.get(groupId)
    return t.partitions.map((_, p) => g?.committed(topic, p) ?? -1)
  }

  /** Joins (creating if needed) a group; `onChange` is called after every rebalance. */
  joinGroup(groupId: string, topics: readonly string[], clientId: string, onChange: () => void): GroupMember {
    let g = this.#groups.get(groupId)
    if (!g) {
      g = new ConsumerGroup(groupId, this.#strategy, topic => this.partitionCount(topic))
      this.#groups.set(groupId, g)
    }
    return g.join(clientId, topics, onChange)
  }

  /** Generation and member count of a group (undefined if it never existed). */
  groupInfo(groupId: string): { generation: number; members: number } | undefined {
    const g = this.#groups.get(groupId)
    return g && { generation: g.generation, members: g.memberCount }
  }

  /** Calls `fn` after every append to `topic`; returns the unsubscribe function. */
  onAppend(topic: string, fn: () => void): () => void {
    let set = this.#listeners.get(topic)
    if (!set) this.#listeners.set(topic, (set = new Set()))
    set.add(fn)
    return () => {
      set.delete(fn)
      if (set.size === 0 && this.#listeners.get(topic) === set) this.#listeners.delete(topic)
    }
  }

  #rebalanceSubscribers(topic: string): void {
    for (const g of this.#groups.values()) if (g.subscribes(topic)) g.rebalance()
  }
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v == null) return null
  // A copy: the caller may reuse its buffer once send resolved, as with a network client.
  return typeof v === 'string' ? Buffer.from(v) : Buffer.from(v)
}

function checkCount(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1)
    throw new DaroogheError('CONFIG', `${what} must be a positive integer, not ${n}`)
  return n
}
