import { KafkaLogAdmin } from '../../adapters/kafka/index.ts'
import { KafkaTail } from '../../adapters/kafka/tail.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import { browsed, lagOf, type BrowsedMessage, type TopicBrowser, type TopicSummary } from './topic-browser.ts'

/** The topic browser on Kafka: one metadata, one offsets and one group-offsets request per refresh. */
export class KafkaTopicBrowser implements TopicBrowser {
  readonly #admin: KafkaLogAdmin
  readonly #tail: KafkaTail

  constructor(connection: KafkaConnection) {
    this.#admin = new KafkaLogAdmin(connection)
    this.#tail = new KafkaTail(connection)
  }

  async topics(): Promise<TopicSummary[]> {
    const topics = await this.#admin.listTopics()
    const names = topics.map(t => t.name)
    const [ends, committed] = await Promise.all([
      this.#tail.endOffsets(names),
      this.#tail.groups().then(ids => this.#tail.committed(ids))
    ])
    return topics.map(t => {
      const end = ends.get(t.name) ?? new Array<number>(t.partitions).fill(0)
      const groups = [...committed]
        .filter(([, byTopic]) => byTopic.has(t.name))
        .map(([group, byTopic]) => {
          const parts = byTopic.get(t.name)!
          return lagOf(
            group,
            end,
            end.map((_, p) => parts.get(p) ?? -1)
          )
        })
      return {
        name: t.name,
        partitions: t.partitions,
        end_offsets: end,
        // Kafka's end offsets count records removed by retention too: this is an upper bound.
        messages: end.reduce((s, n) => s + n, 0),
        groups
      }
    })
  }

  async messages(topic: string, limit: number): Promise<BrowsedMessage[] | undefined> {
    const topics = await this.#admin.listTopics()
    if (!topics.some(t => t.name === topic)) return undefined
    const records = await this.#tail.lastRecords(topic, limit)
    records.sort((a, b) => b.timestamp - a.timestamp || b.partition - a.partition || b.offset - a.offset)
    return records.slice(0, limit).map(browsed)
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#admin.close(), this.#tail.close()])
  }
}
