import { Admin, ListOffsetTimestamps } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type { LogAdmin, TopicInfo } from '../../ports/log.ts'
import { kafkaFailure } from './errors.ts'
import { baseOptions, type KafkaConnection } from './options.ts'

/** LogAdmin on @platformatic/kafka's Admin client. */
export class KafkaLogAdmin implements LogAdmin {
  readonly #admin: Admin
  readonly #conn: KafkaConnection

  constructor(options: KafkaConnection) {
    this.#conn = options
    this.#admin = new Admin(baseOptions(options, 'admin'))
  }

  async createTopics(topics: readonly { name: string; partitions: number }[]): Promise<void> {
    let existing: Set<string>
    try {
      existing = new Set(await this.#admin.listTopics())
    } catch (cause) {
      throw await kafkaFailure('listing the topics', cause, this.#conn)
    }
    for (const t of topics) {
      if (existing.has(t.name)) continue
      try {
        await this.#admin.createTopics({ topics: [t.name], partitions: t.partitions, replicas: 1 })
      } catch (cause) {
        if (/TOPIC_ALREADY_EXISTS|already exists/i.test(JSON.stringify(cause) + String(cause))) continue
        // Authorization, a policy or an invalid name stop the command; an outage is retried.
        throw await kafkaFailure(`creating topic '${t.name}'`, cause, this.#conn)
      }
    }
    // Metadata propagates asynchronously; wait until every topic has a leader per partition.
    await this.#waitForLeaders(topics.map(t => t.name))
  }

  async #waitForLeaders(names: string[]): Promise<void> {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      try {
        const md = await this.#admin.metadata({ topics: names, forceUpdate: true })
        const ready = names.every(n => {
          const t = md.topics.get(n)
          return t !== undefined && t.partitions.every(p => p.leader >= 0)
        })
        if (ready) return
      } catch {
        // not yet known to the broker's metadata cache
      }
      await new Promise(r => setTimeout(r, 100))
    }
    throw new DaroogheError('TIMEOUT', `topics ${names.join(', ')} have no leader after 30 s`)
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    if (names.length === 0) return
    await this.#admin.deleteTopics({ topics: [...names] })
  }

  async listTopics(): Promise<TopicInfo[]> {
    const names = (await this.#admin.listTopics()).filter(n => !n.startsWith('__'))
    if (names.length === 0) return []
    const md = await this.#admin.metadata({ topics: names, forceUpdate: true })
    return names
      .map(name => ({ name, partitions: md.topics.get(name)?.partitionsCount ?? 0 }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  async endOffsets(topic: string): Promise<number[]> {
    const md = await this.#admin.metadata({ topics: [topic] })
    const count = md.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({
      partitionIndex,
      timestamp: ListOffsetTimestamps.LATEST
    }))
    const res = await this.#admin.listOffsets({ topics: [{ name: topic, partitions }] })
    const out = new Array<number>(count).fill(0)
    for (const t of res) for (const p of t.partitions) out[p.partitionIndex] = Number(p.offset)
    return out
  }

  /** Earliest offset still in each partition. */
  async startOffsets(topic: string): Promise<number[]> {
    return this.#offsetsAt(topic, ListOffsetTimestamps.EARLIEST)
  }

  /**
   * Per partition, the first offset whose record timestamp is >= `timestampMs`; the end offset
   * where every record is older.
   */
  async offsetsForTimestamp(topic: string, timestampMs: number): Promise<number[]> {
    const [at, ends] = await Promise.all([
      this.#offsetsAt(topic, BigInt(timestampMs)),
      this.endOffsets(topic)
    ])
    return at.map((o, p) => (o < 0 ? ends[p]! : o))
  }

  async #offsetsAt(topic: string, timestamp: bigint): Promise<number[]> {
    const md = await this.#admin.metadata({ topics: [topic] })
    const count = md.topics.get(topic)?.partitionsCount ?? 0
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }))
    const res = await this.#admin.listOffsets({ topics: [{ name: topic, partitions }] })
    const out = new Array<number>(count).fill(-1)
    for (const t of res) for (const p of t.partitions) out[p.partitionIndex] = Number(p.offset)
    return out
  }

  /** Members currently in the group (0 when it is empty or unknown). */
  async groupMembers(groupId: string): Promise<number> {
    const groups = await this.#admin.describeGroups({ groups: [groupId] })
    return groups.get(groupId)?.members.size ?? 0
  }

  /** Sets the group's committed offsets (the group must have no active member). */
  async setCommittedOffsets(groupId: string, topic: string, offsets: readonly number[]): Promise<void> {
    await this.#admin.alterConsumerGroupOffsets({
      groupId,
      topics: [
        { name: topic, partitionOffsets: offsets.map((o, partition) => ({ partition, offset: BigInt(o) })) }
      ]
    })
  }

  async committedOffsets(groupId: string, topic: string): Promise<number[]> {
    const md = await this.#admin.metadata({ topics: [topic] })
    const count = md.topics.get(topic)?.partitionsCount ?? 0
    const out = new Array<number>(count).fill(-1)
    const res = await this.#admin.listConsumerGroupOffsets({
      groups: [
        { groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, i) => i) }] }
      ]
    })
    for (const g of res)
      for (const t of g.topics)
        for (const p of t.partitions) out[p.partitionIndex] = Number(p.committedOffset)
    return out
  }

  async close(): Promise<void> {
    await this.#admin.close()
  }
}
