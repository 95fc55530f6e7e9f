import { Admin, Consumer, FetchIsolationLevels, ListOffsetTimestamps } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { LogRecord } from '../../ports/log.ts'
import { baseOptions, type KafkaConnection } from './options.ts'

/** A control batch (transaction markers) carries no user record. */
const IS_CONTROL = 0b10_0000
/** Enough for the newest few hundred records of a partition in one fetch. */
const MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024

/**
 * Read-only views of a Kafka cluster for the dashboard's topic browser: the consumer groups and
 * their committed offsets, and the newest records of a topic. Records are fetched directly from
 * each partition's leader at an explicit offset, without joining a group, so browsing neither
 * creates groups nor commits anything.
 */
export class KafkaTail {
  readonly #admin: Admin
  readonly #consumer: Consumer<Buffer, Buffer, Buffer, Buffer>

  constructor(options: KafkaConnection) {
    this.#admin = new Admin(baseOptions(options, 'tail-admin'))
    // groupId is required by the client; it is never joined (only fetch and listOffsets are used).
    this.#consumer = new Consumer({ ...baseOptions(options, 'tail'), groupId: 'darooghe-tail-unused' })
  }

  /** Ids of the consumer groups (of the classic and consumer protocols). */
  async groups(): Promise<string[]> {
    const groups = await this.#admin.listGroups()
    return [...groups.keys()].sort()
  }

  /** Committed next offsets of each group: group → topic → partition → offset. */
  async committed(groupIds: readonly string[]): Promise<Map<string, Map<string, Map<number, number>>>> {
    const out = new Map<string, Map<string, Map<number, number>>>()
    if (groupIds.length === 0) return out
    const res = await this.#admin.listConsumerGroupOffsets({ groups: [...groupIds] })
    for (const g of res) {
      const topics = new Map<string, Map<number, number>>()
      for (const t of g.topics) {
        const parts = new Map<number, number>()
        for (const p of t.partitions)
          if (p.committedOffset >= 0n) parts.set(p.partitionIndex, Number(p.committedOffset))
        if (parts.size > 0) topics.set(t.name, parts)
      }
      if (topics.size > 0) out.set(g.groupId, topics)
    }
    return out
  }

  /** End offsets of many topics in one request: topic → offset per partition. */
  async endOffsets(topics: readonly string[]): Promise<Map<string, number[]>> {
    return this.#offsets(topics, ListOffsetTimestamps.LATEST)
  }

  async #offsets(topics: readonly string[], timestamp: bigint): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>()
    if (topics.length === 0) return out
    const offsets = await this.#consumer.listOffsets({ topics: [...topics], timestamp })
    for (const [topic, parts] of offsets) out.set(topic, parts.map(Number))
    return out
  }

  /** The `n` newest records of each partition of `topic` (fewer where the partition holds fewer). */
  async lastRecords(topic: string, n: number): Promise<LogRecord[]> {
    const md = await this.#consumer.metadata({ topics: [topic] })
    const info = md.topics.get(topic)
    if (!info) throw new DaroogheError('USAGE', `no topic '${topic}'`)
    const [ends, starts] = await Promise.all([
      this.#offsets([topic], ListOffsetTimestamps.LATEST),
      this.#offsets([topic], ListOffsetTimestamps.EARLIEST)
    ])
    const end = ends.get(topic) ?? []
    const start = starts.get(topic) ?? []
    // One fetch per leader, every partition of that leader in it.
    const byLeader = new Map<number, { partition: number; from: number; to: number }[]>()
    info.partitions.forEach((p, partition) => {
      const to = end[partition] ?? 0
      const from = Math.max(start[partition] ?? 0, to - n)
      if (to <= from) return
      const list = byLeader.get(p.leader) ?? []
      list.push({ partition, from, to })
      byLeader.set(p.leader, list)
    })
    const out: LogRecord[] = []
    await Promise.all(
      [...byLeader].map(async ([node, parts]) => {
        const res = await this.#consumer.fetch({
          node,
          maxWaitTime: 0,
          minBytes: 1,
          isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
          topics: [
            {
              topicId: info.id,
              partitions: parts.map(p => ({
                partition: p.partition,
                fetchOffset: BigInt(p.from),
                partitionMaxBytes: MAX_BYTES_PER_PARTITION,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1
              }))
            }
          ]
        })
        for (const t of res.responses)
          for (const p of t.partitions) {
            const range = parts.find(x => x.partition === p.partitionIndex)
            if (!range) continue
            for (const batch of p.records ?? []) {
              if (batch.attributes & IS_CONTROL) continue
              for (const r of batch.records) {
                const offset = Number(batch.firstOffset) + r.offsetDelta
                if (offset < range.from || offset >= range.to) continue
                out.push({
                  topic,
                  partition: p.partitionIndex,
                  offset,
                  key: r.key && r.key.length > 0 ? r.key : null,
                  value: r.value,
                  headers: headersOf(r.headers),
                  timestamp: Number(batch.firstTimestamp + r.timestampDelta)
                })
              }
            }
          }
      })
    )
    return out
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#admin.close(), this.#consumer.close(true)])
  }
}

function headersOf(list: readonly [Buffer | null, Buffer | null][]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of list) if (k) out[k.toString('utf8')] = v?.toString('utf8') ?? ''
  return out
}
