import type { DecisionBus } from '../../ports/decision-bus.ts'
import type { LogRecord, OutRecord } from '../../ports/log.ts'
import type { MemoryLog } from './log.ts'
import type { MemoryLogProducer } from './log-producer.ts'

export interface MemoryDecisionBusOptions {
  readonly input: string
  readonly replies: string
  /** Partitions of a topic `start` creates. Default 6. */
  readonly partitions?: number
}

/**
 * DecisionBus on the embedded log: sends through a producer of the log (appends land in call
 * order), replies read from every partition of the reply topic as they are appended (an event
 * of the log, not a poll), from the end the topic had at `start`.
 */
export class MemoryDecisionBus implements DecisionBus {
  readonly #log: MemoryLog
  readonly #o: MemoryDecisionBusOptions
  readonly #producer: MemoryLogProducer
  #positions: number[] = []
  #unsubscribe: (() => void) | null = null

  constructor(log: MemoryLog, options: MemoryDecisionBusOptions) {
    this.#log = log
    this.#o = options
    this.#producer = log.producer()
  }

  async start(onReply: (replies: readonly LogRecord[]) => void): Promise<void> {
    const { input, replies } = this.#o
    for (const t of [input, replies]) this.#log.createTopic(t, this.#o.partitions ?? 6)
    this.#positions = this.#log.endOffsets(replies)
    this.#unsubscribe = this.#log.onAppend(replies, () => {
      const out: LogRecord[] = []
      this.#positions.forEach((from, p) => {
        const recs = this.#log.readRange(replies, p, from, Number.MAX_SAFE_INTEGER)
        if (recs.length === 0) return
        this.#positions[p] = recs[recs.length - 1]!.offset + 1
        out.push(...recs)
      })
      if (out.length > 0) onReply(out)
    })
  }

  async send(record: OutRecord): Promise<void> {
    await this.#producer.send([record])
  }

  async close(): Promise<void> {
    this.#unsubscribe?.()
    await this.#producer.close()
  }
}
