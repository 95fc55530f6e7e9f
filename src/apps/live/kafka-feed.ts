import { KafkaLogAdmin, KafkaLogConsumer } from '../../adapters/kafka/index.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import type { Logger } from '../../logger.ts'
import type { LiveView } from './live-view.ts'
import { runLiveView } from './run-live.ts'

export interface KafkaFeedOptions extends KafkaConnection {
  readonly live: LiveView
  /** A group of its own: the view must see every record, whoever else reads the topics. */
  readonly groupId: string
  readonly log: Logger
  /** Partitions of a missing topic the feed creates. Default 6 (as `darooghe detect`). */
  readonly partitions?: number
  /** Pause before reconnecting after a failure, ms. Default 5000. */
  readonly retryMs?: number
}

export interface KafkaFeed {
  /** Leaves the group and resolves once the feed stopped. */
  stop(): Promise<void>
}

/**
 * Feeds a LiveView from Kafka for `darooghe serve`, starting at the end of the topics (the
 * dashboard shows now, not the history). Missing topics are created, so the page works before
 * the pipeline first runs; a failure (Kafka down) is logged and the feed reconnects, while the
 * API stays up and /health says what is down.
 */
export function startKafkaFeed(o: KafkaFeedOptions): KafkaFeed {
  let stopped = false
  let consumer: KafkaLogConsumer | null = null
  let wake: (() => void) | null = null
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        const admin = new KafkaLogAdmin({ ...o, retries: 0, timeoutMs: 5_000 })
        try {
          await admin.createTopics(
            o.live.subscriptions().map(name => ({ name, partitions: o.partitions ?? 6 }))
          )
        } finally {
          await admin.close().catch(() => {})
        }
        if (stopped) return
        consumer = new KafkaLogConsumer({
          ...o,
          groupId: o.groupId,
          topics: o.live.subscriptions(),
          fromBeginning: false,
          maxWaitMs: 200
        })
        await runLiveView({ consumer, view: o.live })
      } catch (err) {
        if (stopped) return
        o.log.warn({ err }, `the dashboard cannot read Kafka; retrying in ${(o.retryMs ?? 5000) / 1000} s`)
        await new Promise<void>(resolve => {
          wake = resolve
          setTimeout(resolve, o.retryMs ?? 5000).unref()
        })
      }
    }
  }
  const running = loop()
  return {
    async stop() {
      stopped = true
      wake?.()
      await consumer?.close().catch(() => {})
      await running
    }
  }
}
