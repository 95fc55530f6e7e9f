import { KafkaLogAdmin, KafkaLogConsumer } from '../../adapters/kafka/index.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import { kafkaError } from '../../adapters/kafka/errors.ts'
import type { Logger } from '../../logger.ts'
import { Outage, retryOptions, type Resilience } from '../../retry.ts'
import type { LiveView } from './live-view.ts'
import { runLiveView } from './run-live.ts'

export interface KafkaFeedOptions extends KafkaConnection {
  readonly live: LiveView
  /** A group of its own: the view must see every record, whoever else reads the topics. */
  readonly groupId: string
  readonly log: Logger
  /** Partitions of a missing topic the feed creates. Default 6 (as `darooghe detect`). */
  readonly partitions?: number
  /** Pause before reconnecting after a failure, ms: the backoff's cap. Default 5000. */
  readonly retryMs?: number
  /**
   * Retry policy (--retry-for), logger and health tracker: the feed's consumer retries through
   * a Kafka outage, and so does the feed around it. Default: retry for ever.
   */
  readonly resilience?: Resilience
}

export interface KafkaFeed {
  /** Leaves the group and resolves once the feed stopped. */
  stop(): Promise<void>
  /** Rejects when the feed gave up (Kafka down longer than --retry-for, or a fatal error). */
  readonly failed: Promise<never>
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
  const abort = new AbortController()
  const outage = new Outage('feed the dashboard from Kafka', o.resilience?.log ?? o.log, {
    ...retryOptions(o.resilience, { maxMs: o.retryMs ?? 5000 }),
    dependency: 'kafka',
    signal: abort.signal
  })
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
        outage.succeeded()
        await runLiveView({ consumer, view: o.live })
      } catch (err) {
        if (stopped) return
        await consumer?.close().catch(() => {})
        // Rate-limited warnings, /health degraded; rejects when --retry-for is exceeded.
        await outage.failed(kafkaError('reading the live topics', err))
      }
    }
  }
  const running = loop()
  const failed = running.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => {
      if (stopped) return new Promise<never>(() => {})
      throw error
    }
  )
  failed.catch(() => {})
  return {
    failed,
    async stop() {
      stopped = true
      abort.abort()
      await consumer?.close().catch(() => {})
      await running.catch(() => {})
    }
  }
}
