import { KafkaDecisionBus } from '../../adapters/kafka/decision-bus.ts'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../adapters/kafka/index.ts'
import type { KafkaConnection } from '../../adapters/kafka/options.ts'
import { MemoryDecisionBus } from '../../adapters/memory/decision-bus.ts'
import { MemoryLog } from '../../adapters/memory/index.ts'
import type { Logger } from '../../logger.ts'
import type { DecisionBus } from '../../ports/decision-bus.ts'
import type { ConsumerOptions, LogConsumer, LogProducer } from '../../ports/log.ts'
import { KafkaTopicBrowser, MemoryTopicBrowser, type TopicBrowser } from '../live/index.ts'

/**
 * Where the demo's records live: the embedded log, or Kafka. Everything in the demo talks to
 * the log through this and the LogConsumer/LogProducer ports, so both runs are the same code.
 */
export interface DemoBackend {
  readonly name: string
  /** Creates the topics that do not exist yet. */
  ensureTopics(names: readonly string[], partitions: number): Promise<void>
  producer(): LogProducer
  consumer(options: ConsumerOptions): LogConsumer
  /** Request-reply for `POST /v1/decisions`: events to `input`, replies read from `replies`. */
  decisionBus(o: { input: string; replies: string; log: Logger }): DecisionBus
  readonly browser: TopicBrowser
  close(): Promise<void>
}

/** The embedded log; `groups` are the demo's consumer groups (the browser reports their lag). */
export function memoryBackend(log: MemoryLog = new MemoryLog(), groups: () => readonly string[] = () => []) {
  const backend: DemoBackend & { readonly log: MemoryLog } = {
    name: 'embedded log',
    log,
    async ensureTopics(names, partitions) {
      for (const n of names) log.createTopic(n, partitions)
    },
    producer: () => log.producer(),
    consumer: options => log.consumer(options),
    decisionBus: o => new MemoryDecisionBus(log, o),
    browser: new MemoryTopicBrowser(log, groups),
    async close() {}
  }
  return backend
}

/** Kafka, on the connection of the configuration (brokers, TLS, SASL, compression). */
export function kafkaBackend(connection: KafkaConnection): DemoBackend {
  const producers: LogProducer[] = []
  const kafka: KafkaConnection = { clientId: 'darooghe-demo', ...connection }
  const browser = new KafkaTopicBrowser(kafka)
  return {
    name: `Kafka at ${kafka.brokers.join(',')}`,
    async ensureTopics(names, partitions) {
      const admin = new KafkaLogAdmin({ ...kafka, retries: 0, timeoutMs: 5_000 })
      try {
        await admin.createTopics(names.map(name => ({ name, partitions })))
      } finally {
        await admin.close().catch(() => {})
      }
    },
    producer: () => {
      const p = new KafkaLogProducer(kafka)
      producers.push(p)
      return p
    },
    consumer: options => new KafkaLogConsumer({ ...kafka, maxWaitMs: 100, ...options }),
    decisionBus: o => new KafkaDecisionBus({ ...kafka, ...o }),
    browser,
    async close() {
      await Promise.allSettled([...producers.map(p => p.close()), browser.close?.()])
    }
  }
}
