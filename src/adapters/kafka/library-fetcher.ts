import {
  type ClusterMetadata,
  type Consumer,
  FetchIsolationLevels,
  ListOffsetTimestamps
} from '@platformatic/kafka'
import { setTimeout as delay } from 'node:timers/promises'
import { DaroogheError } from '../../errors.ts'
import type { LogRecord, TopicPartition } from '../../ports/log.ts'
import { fatalCodeReason } from './errors.ts'
import type { FetcherOptions } from './fetcher.ts'
import { setHeader } from './records.ts'

type KafkaConsumer = Consumer<Buffer, Buffer, string, string>
/** What `Consumer.fetch()` resolves to (the type itself is not exported by name). */
type FetchResponse = Awaited<ReturnType<KafkaConsumer['fetch']>>
type FetchTopic = FetchResponse['responses'][number]
type FetchPartition = FetchTopic['partitions'][number]
type FetchBatch = NonNullable<FetchPartition['records']>[number]

interface Position {
  readonly topic: string
  readonly partition: number
  /** Next offset to fetch. */
  offset: number
}

/** Partition errors after which the leader is looked up again and the fetch retried. */
const REFRESH_METADATA = new Set([3, 5, 6, 13, 56, 74, 75, 100, 103])
const OFFSET_OUT_OF_RANGE = 1
/** Attribute bit of a control batch (transaction markers): never handed to the caller. */
const CONTROL = 1 << 5
const TRANSACTIONAL = 1 << 4
const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * The `library` data path of the consumer: the same contract as KafkaFetcher, through the
 * client library's public API only. Each round is one `Consumer.fetch()` per partition leader;
 * the library builds the request and parses the response into record batches. This class
 * skips control batches, the batches of aborted transactions the library left in (see
 * `abortedBatches`) and records before the requested offset (a batch starts before it), and
 * keeps the positions. The fetches share the consumer's connections (a private pool is not public API),
 * so a heartbeat or commit may wait behind a fetch held up to `maxWaitMs` on the broker.
 */
export class LibraryFetcher {
  readonly #consumer: KafkaConsumer
  readonly #options: FetcherOptions
  readonly #positions = new Map<string, Position>()
  readonly #ends = new Map<string, number>()
  #topics: string[] = []
  #staleMetadata = false
  #closed = false
  #round = 0

  constructor(consumer: KafkaConsumer, options: FetcherOptions) {
    this.#consumer = consumer
    this.#options = options
  }

  /** As KafkaFetcher.seek: positions from the committed offsets, else the configured end. */
  async seek(
    partitions: readonly TopicPartition[]
  ): Promise<{ topic: string; partition: number; offset: number }[]> {
    this.#positions.clear()
    this.#topics = [...new Set(partitions.map(p => p.topic))]
    const defaulted: { topic: string; partition: number; offset: number }[] = []
    if (partitions.length === 0) return defaulted
    const byTopic = new Map<string, number[]>()
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
    const committed = await this.#consumer.listCommittedOffsets({
      topics: [...byTopic].map(([topic, parts]) => ({ topic, partitions: parts }))
    })
    let fallback: Map<string, bigint[]> | null = null
    for (const p of partitions) {
      let offset = committed.get(p.topic)?.[p.partition] ?? -1n
      if (offset < 0n) {
        fallback ??= await this.#listOffsets(this.#options.fromBeginning)
        offset = fallback.get(p.topic)?.[p.partition] ?? 0n
        defaulted.push({ topic: p.topic, partition: p.partition, offset: Number(offset) })
      }
      this.#positions.set(`${p.topic}:${p.partition}`, { ...p, offset: Number(offset) })
    }
    return defaulted
  }

  #listOffsets(earliest: boolean): Promise<Map<string, bigint[]>> {
    return this.#consumer.listOffsets({
      topics: this.#topics,
      timestamp: earliest ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST
    })
  }

  /** One fetch round, to every leader in parallel; as KafkaFetcher.fetch. */
  async fetch(): Promise<LogRecord[]> {
    if (this.#closed) return []
    if (this.#positions.size === 0) {
      await delay(this.#options.maxWaitMs)
      return []
    }
    const metadata = await this.#consumer.metadata({ topics: this.#topics, forceUpdate: this.#staleMetadata })
    this.#staleMetadata = false
    const byLeader = new Map<number, Position[]>()
    const positions = [...this.#positions.values()]
    const first = this.#round++ % positions.length
    for (let i = 0; i < positions.length; i++) {
      const p = positions[(first + i) % positions.length]!
      const leader = metadata.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1
      if (leader < 0) {
        this.#staleMetadata = true
        continue
      }
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p])
    }
    const out: LogRecord[] = []
    await Promise.all([...byLeader].map(([leader, list]) => this.#fetchFrom(metadata, leader, list, out)))
    if (out.length === 0 && this.#staleMetadata) await delay(Math.min(this.#options.maxWaitMs, 100))
    return out
  }

  async #fetchFrom(
    metadata: ClusterMetadata,
    leader: number,
    positions: readonly Position[],
    out: LogRecord[]
  ): Promise<void> {
    const names = new Map<string, string>()
    const byTopic = new Map<string, Position[]>()
    for (const p of positions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p])
    const partitionMaxBytes = this.#options.partitionMaxBytes ?? 512 * 1024
    const topics = [...byTopic].map(([topic, list]) => {
      const id = metadata.topics.get(topic)!.id
      names.set(id, topic)
      return {
        topicId: id,
        partitions: list.map(p => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(p.offset),
          lastFetchedEpoch: -1,
          partitionMaxBytes
        }))
      }
    })
    let response: FetchResponse
    try {
      response = await this.#consumer.fetch({
        node: leader,
        topics,
        minBytes: 1,
        maxBytes: this.#options.maxBytes ?? 1536 * 1024,
        maxWaitTime: this.#options.maxWaitMs,
        isolationLevel: this.#options.readCommitted
          ? FetchIsolationLevels.READ_COMMITTED
          : FetchIsolationLevels.READ_UNCOMMITTED
      })
    } catch (error) {
      // A partition error fails the whole call, but the library hands the parsed response
      // over with the error: the partitions without an error are used, the others handled
      // below. Anything else (no response, a request-level error) is the caller's to retry.
      const partial = (error as { response?: FetchResponse }).response
      if (partial?.responses === undefined || partial.errorCode !== 0) throw error
      response = partial
    }
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId)
      if (topic === undefined) continue
      for (const part of topicResponse.partitions) {
        const position = this.#positions.get(`${topic}:${part.partitionIndex}`)
        if (position !== undefined) await this.#take(position, part, out)
      }
    }
  }

  async #take(position: Position, part: FetchPartition, out: LogRecord[]): Promise<void> {
    const key = `${position.topic}:${position.partition}`
    if (part.errorCode === OFFSET_OUT_OF_RANGE) {
      // Retention removed what the group had not read yet: start over from the configured end.
      const offsets = await this.#listOffsets(this.#options.fromBeginning)
      position.offset = Number(offsets.get(position.topic)?.[position.partition] ?? 0n)
      return
    }
    if (REFRESH_METADATA.has(part.errorCode)) {
      this.#staleMetadata = true
      return
    }
    if (part.errorCode !== 0) {
      const fatal = fatalCodeReason(part.errorCode)
      throw new DaroogheError(
        fatal ? 'KAFKA_FATAL' : 'KAFKA',
        `fetch of ${key} failed: ${fatal ?? `Kafka error code ${part.errorCode}`}`
      )
    }
    // What a reader of this isolation level can reach, as KafkaFetcher computes it.
    this.#ends.set(key, Number(part.lastStableOffset >= 0n ? part.lastStableOffset : part.highWatermark))
    const skip = this.#options.readCommitted ? abortedBatches(part) : null
    for (const batch of part.records ?? []) {
      const base = Number(batch.firstOffset)
      const last = base + batch.lastOffsetDelta
      // Control batches and aborted ones are skipped, but the position moves past them.
      if ((batch.attributes & CONTROL) === 0 && !skip?.has(batch)) {
        const timestamp = Number(batch.firstTimestamp)
        for (const r of batch.records) {
          const offset = base + r.offsetDelta
          if (offset < position.offset) continue
          let headers = EMPTY
          if (r.headers.length > 0) {
            headers = {}
            for (const [k, v] of r.headers) setHeader(headers, k?.toString() ?? '', v?.toString() ?? '')
          }
          out.push({
            topic: position.topic,
            partition: position.partition,
            offset,
            key: r.key ?? null,
            value: r.value ?? null,
            headers,
            timestamp: timestamp + Number(r.timestampDelta)
          })
        }
      }
      if (last + 1 > position.offset) position.offset = last + 1
    }
  }

  /** As KafkaFetcher.behind: partitions with records known and not fetched yet. */
  behind(): Set<string> {
    const out = new Set<string>()
    for (const [key, p] of this.#positions) {
      const end = this.#ends.get(key)
      if (end !== undefined && end >= 0 && p.offset < end) out.add(key)
    }
    return out
  }

  close(): Promise<void> {
    this.#closed = true
    return Promise.resolve()
  }
}

/**
 * The batches of aborted transactions in a partition's response, as the Java client finds them.
 * The library filters these too, but only when the abort marker is in the same response: a
 * response that ends between an aborted transaction's records and its marker (brokers do cut
 * there) would hand them out under read_committed. So: a producer's transactional batches are
 * aborted from the first offset the response lists for it until its abort marker.
 */
export function abortedBatches(part: FetchPartition): Set<FetchBatch> {
  const skip = new Set<FetchBatch>()
  if (part.abortedTransactions.length === 0 || part.records === undefined) return skip
  const pending = [...part.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
  const open = new Set<bigint>()
  let next = 0
  for (const batch of part.records) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    while (next < pending.length && pending[next]!.firstOffset <= last) open.add(pending[next++]!.producerId)
    if ((batch.attributes & CONTROL) !== 0) {
      // Control record key: version i16 | type i16 (0 = abort, 1 = commit).
      if (batch.records[0]?.key?.readInt16BE(2) === 0) open.delete(batch.producerId)
    } else if ((batch.attributes & TRANSACTIONAL) !== 0 && open.has(batch.producerId)) skip.add(batch)
  }
  return skip
}
