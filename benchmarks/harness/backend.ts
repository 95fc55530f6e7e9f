/** The log a detector run uses: the local Kafka, or the embedded in-process MemoryLog. */
import { KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { MemoryLog } from '../../src/adapters/memory/index.ts'
import type { ConsumerOptions, LogAdmin, LogConsumer, LogProducer } from '../../src/ports/log.ts'
import type { BenchEnv } from './env.ts'

export interface LogBackend {
  readonly name: 'kafka' | 'memory'
  readonly admin: LogAdmin
  createTopics(names: readonly string[], partitions: number): Promise<void>
  producer(clientId: string): LogProducer
  consumer(options: ConsumerOptions & { clientId: string }): LogConsumer
}

export function kafkaBackend(env: BenchEnv): LogBackend {
  return {
    name: 'kafka',
    admin: env.admin,
    createTopics: (names, partitions) => env.createTopics(names, partitions),
    producer: clientId => new KafkaLogProducer({ brokers: env.brokers, clientId }),
    consumer: options => new KafkaLogConsumer({ brokers: env.brokers, ...options })
  }
}

/** A fresh MemoryLog; its topics vanish with it. */
export function memoryBackend(): LogBackend {
  const log = new MemoryLog()
  const admin = log.admin()
  return {
    name: 'memory',
    admin,
    createTopics: (names, partitions) => admin.createTopics(names.map(name => ({ name, partitions }))),
    producer: () => log.producer(),
    consumer: options => log.consumer(options)
  }
}
