import {
  type ClusterMetadata,
  type Connection,
  ConnectionPool,
  type Consumer,
  fetchV12,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  kOptions,
  ListOffsetTimestamps
} from '@platformatic/kafka'
import { setTimeout as delay } from 'node:timers/promises'
import { DaroogheError } from '../../errors.ts'
import type { LogRecord, TopicPartition } from '../../ports/log.ts'
import { fatalCodeReason, kafkaCode, kafkaCodeName, timedOut } from './errors.ts'
import { decodeRecordBatches } from './protocol/record-batch-decode.ts'
import { type PartitionData, parseFetchResponse } from './protocol/fetch-v12-v17.ts'

type KafkaConsumer = Consumer<Buffer, Buffer, string, string>

export interface FetcherOptions {
  /** Longest the broker holds a fetch that has no data yet, ms. */
  readonly maxWaitMs: number
  /** read_committed: skip aborted transactions and stop at the last stable offset. */
  readonly readCommitted: boolean
  /** Where a partition without a committed offset starts. */
  readonly fromBeginning: boolean
  /**
   * Bytes per fetch round (response). Default 1.5 MiB; the broker fills it with whole record
   * batches, which came to about 1,700 payment events a round in the benchmark. A round is
   * what the consumer holds in memory, and a detector batch kept small stays in the young
   * generation: 1.7k-record batches cost 0.028 ms of CPU per event, 3.7k-record batches
   * 0.044 ms, because more of the larger batch survives minor collections.
   */
  readonly maxBytes?: number
  /** Bytes per partition in a fetch round. Default 512 KiB. */
  readonly partitionMaxBytes?: number
}

interface Position {
  readonly topic: string
  readonly partition: number
  /** Next offset to fetch. */
  offset: number
}

/** Partition errors after which the leader is looked up again and the fetch retried. */
const REFRESH_METADATA = new Set(
  [
    'UNKNOWN_TOPIC_OR_PARTITION',
    'LEADER_NOT_AVAILABLE',
    'NOT_LEADER_OR_FOLLOWER',
    'NETWORK_EXCEPTION',
    'KAFKA_STORAGE_ERROR',
    'FENCED_LEADER_EPOCH',
    'UNKNOWN_LEADER_EPOCH',
    'UNKNOWN_TOPIC_ID',
    'INCONSISTENT_TOPIC_ID'
  ].map(kafkaCode)
)
const OFFSET_OUT_OF_RANGE = kafkaCode('OFFSET_OUT_OF_RANGE')
const REQUEST_BUILDERS = {
  12: fetchV12.createRequest,
  13: fetchV13.createRequest,
  14: fetchV14.createRequest,
  15: fetchV15.createRequest,
  16: fetchV16.createRequest,
  17: fetchV17.createRequest
} as Record<number, (...args: unknown[]) => ReturnType<typeof fetchV17.createRequest>>

/**
 * The consumer's data path: Fetch requests to each partition leader, answered by our own
 * response parser (record batches decoded straight into LogRecords, see record-batches.ts).
 * Group membership, heartbeats, offset commits, metadata and connections stay with
 * @platformatic/kafka's Consumer; this class only holds the fetch positions of the partitions
 * it was given with `seek`.
 */
export class KafkaFetcher {
  readonly #consumer: KafkaConsumer
  readonly #options: FetcherOptions
  readonly #pool: ConnectionPool
  readonly #positions = new Map<string, Position>()
  #topics: string[] = []
  #staleMetadata = false
  #closed = false
  #round = 0
  #version: Promise<number> | null = null
  /** Per partition, its end as the last fetch response said. */
  readonly #ends = new Map<string, number>()

  constructor(consumer: KafkaConsumer, options: FetcherOptions) {
    this.#consumer = consumer
    this.#options = options
    // Fetches wait on the broker up to maxWaitMs: a connection of their own keeps them from
    // delaying the group's heartbeats and commits, which share the consumer's pool.
    const base = consumer[kOptions] as unknown as Record<string, unknown>
    this.#pool = new ConnectionPool(`${String(base.clientId)}-fetch`, base)
  }

  /**
   * Sets the partitions to fetch and where each starts: the group's committed offset, or the
   * earliest / latest offset when the group has none. Forgets every other partition. Returns
   * the partitions that had no committed offset, with where they start.
   */
  async seek(
    partitions: readonly TopicPartition[]
  ): Promise<{ topic: string; partition: number; offset: number }[]> {
    this.#positions.clear()
    this.#topics = [...new Set(partitions.map(p => p.topic))]
    const defaulted: { topic: string; partition: number; offset: number }[] = []
    if (partitions.length === 0) return defaulted
    const byTopic = new Map<string, number[]>()
    for (const p of partitions) {
      const list = byTopic.get(p.topic) ?? []
      list.push(p.partition)
      byTopic.set(p.topic, list)
    }
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

  /**
   * One fetch round: a request to the leader of every partition held, in parallel. Returns
   * the records received (in offset order within each partition) and moves the positions past
   * them. An empty result means the broker had nothing within `maxWaitMs`.
   */
  async fetch(): Promise<LogRecord[]> {
    if (this.#closed) return []
    if (this.#positions.size === 0) {
      // No partitions (a member beyond the partition count, or before its first assignment):
      // wait as the broker waits before answering an empty fetch, instead of spinning.
      await delay(this.#options.maxWaitMs)
      return []
    }
    const metadata = await this.#consumer.metadata({ topics: this.#topics, forceUpdate: this.#staleMetadata })
    this.#staleMetadata = false
    const byLeader = new Map<number, Position[]>()
    // The broker fills a response in request order up to maxBytes: the order rotates every
    // round so that no partition waits behind a lagging one.
    const positions = [...this.#positions.values()]
    const first = this.#round++ % positions.length
    for (let i = 0; i < positions.length; i++) {
      const p = positions[(first + i) % positions.length]!
      const topic = metadata.topics.get(p.topic)
      const leader = topic?.partitions[p.partition]?.leader ?? -1
      if (leader < 0) {
        this.#staleMetadata = true
        continue
      }
      const list = byLeader.get(leader) ?? []
      list.push(p)
      byLeader.set(leader, list)
    }
    const out: LogRecord[] = []
    const rounds = [...byLeader].map(([leader, positions]) =>
      this.#fetchFrom(metadata, leader, positions, out)
    )
    await Promise.all(rounds)
    // Leaders unknown or moving: no request waited on the broker, so pause before asking again.
    if (out.length === 0 && this.#staleMetadata) await delay(Math.min(this.#options.maxWaitMs, 100))
    return out
  }

  async #fetchFrom(
    metadata: ClusterMetadata,
    leader: number,
    positions: Position[],
    out: LogRecord[]
  ): Promise<void> {
    const broker = metadata.brokers.get(leader)
    if (!broker) {
      this.#staleMetadata = true
      return
    }
    const connection = await this.#pool.get(broker)
    const version = await this.#fetchVersion()
    const build = REQUEST_BUILDERS[version]!
    const byTopic = new Map<string, Position[]>()
    for (const p of positions) {
      const list = byTopic.get(p.topic) ?? []
      list.push(p)
      byTopic.set(p.topic, list)
    }
    const names = new Map<string, string>()
    const partitionMaxBytes = this.#options.partitionMaxBytes ?? 512 * 1024
    const topics = [...byTopic].map(([topic, list]) => {
      const id = metadata.topics.get(topic)!.id
      names.set(version >= 13 ? id.replaceAll('-', '') : topic, topic)
      return {
        topicId: version >= 13 ? id : topic,
        partitions: list.map(p => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(p.offset),
          lastFetchedEpoch: -1,
          partitionMaxBytes
        }))
      }
    })
    const isolation = this.#options.readCommitted ? 1 : 0
    let response: PartitionData[]
    try {
      response = await send(connection, 1, version, () =>
        build(
          this.#options.maxWaitMs,
          1,
          this.#options.maxBytes ?? 1536 * 1024,
          isolation,
          0,
          -1,
          topics,
          [],
          ''
        )
      )
    } catch (error) {
      // A timed-out or unreadable response leaves the connection useless (a half-open socket
      // times out every request; a frame read wrong misreads the next): the next fetch dials
      // again.
      if (timedOut(error) || error instanceof DaroogheError) connection.close(() => {})
      throw error
    }
    for (const part of response) {
      const topic = names.get(part.topic)
      const position = topic === undefined ? undefined : this.#positions.get(`${topic}:${part.partition}`)
      if (position === undefined) continue
      if (part.errorCode === 0) {
        this.#ends.set(`${position.topic}:${position.partition}`, part.end)
        if (part.records === null) continue
        const decoded = decodeRecordBatches(
          part.records,
          position.topic,
          position.partition,
          position.offset,
          isolation === 1 ? part.aborted : null,
          out
        )
        position.offset = decoded.nextOffset
      } else if (part.errorCode === OFFSET_OUT_OF_RANGE) {
        // Retention removed what the group had not read yet (or the log was truncated):
        // start over from the configured end, as the Java client's auto.offset.reset does.
        const offsets = await this.#listOffsets(this.#options.fromBeginning)
        position.offset = Number(offsets.get(position.topic)?.[position.partition] ?? 0n)
      } else if (REFRESH_METADATA.has(part.errorCode)) {
        this.#staleMetadata = true
      } else {
        const fatal = fatalCodeReason(part.errorCode)
        throw new DaroogheError(
          fatal ? 'KAFKA_FATAL' : 'KAFKA',
          `fetch of ${position.topic}:${position.partition} failed: ${fatal ?? `Kafka ${kafkaCodeName(part.errorCode)} (${part.errorCode})`}`
        )
      }
    }
  }

  /**
   * The partitions (`topic:partition`) with records the last fetch round knew of and that are
   * not fetched yet: a reader catching up on a backlog, not a partition with nothing to say.
   */
  behind(): Set<string> {
    const out = new Set<string>()
    for (const [key, p] of this.#positions) {
      const end = this.#ends.get(key)
      if (end !== undefined && end >= 0 && p.offset < end) out.add(key)
    }
    return out
  }

  /** The Fetch version both sides speak, asked of the client once. */
  #fetchVersion(): Promise<number> {
    if (this.#version === null) {
      const asked = new Promise<number>((resolve, reject) => {
        this.#consumer[kGetApi]('Fetch', (error, api) => {
          if (error) reject(error)
          else if (!api || !(api.version in REQUEST_BUILDERS)) {
            reject(
              new DaroogheError(
                'KAFKA_FATAL',
                `the broker offers Fetch v${api?.version}; Kafka >= 2.8 is needed`
              )
            )
          } else resolve(api.version)
        })
      })
      // A failed look-up (broker down) is asked again next round.
      asked.catch(() => {
        if (this.#version === asked) this.#version = null
      })
      this.#version = asked
    }
    return this.#version
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.close()
  }
}

function send(
  connection: Connection,
  apiKey: number,
  version: number,
  payload: () => ReturnType<typeof fetchV17.createRequest>
): Promise<PartitionData[]> {
  return new Promise((resolve, reject) => {
    connection.send(apiKey, version, payload, parseFetchResponse, true, true, (error, result) => {
      if (error) reject(error)
      else resolve(result as PartitionData[])
    })
  })
}
