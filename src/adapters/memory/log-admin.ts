import { DaroogheError } from '../../errors.ts'
import type { LogAdmin, TopicInfo } from '../../ports/log.ts'
import type { MemoryLog } from './log.ts'

/** LogAdmin on the embedded log. The topic browser's reads are on MemoryLog itself. */
export class MemoryLogAdmin implements LogAdmin {
  readonly #log: MemoryLog
  #closed = false

  constructor(log: MemoryLog) {
    this.#log = log
  }

  /** Creates the topics that do not exist yet; existing ones keep their partition count. */
  async createTopics(topics: readonly { name: string; partitions: number }[]): Promise<void> {
    this.#check()
    for (const t of topics) this.#log.createTopic(t.name, t.partitions)
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    this.#check()
    for (const n of names) this.#log.deleteTopic(n)
  }

  async listTopics(): Promise<TopicInfo[]> {
    this.#check()
    return this.#log.listTopics()
  }

  async endOffsets(topic: string): Promise<number[]> {
    this.#check()
    return this.#log.endOffsets(topic)
  }

  async committedOffsets(groupId: string, topic: string): Promise<number[]> {
    this.#check()
    return this.#log.committedOffsets(groupId, topic)
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #check(): void {
    if (this.#closed) throw new DaroogheError('CLOSED', 'admin is closed')
  }
}
