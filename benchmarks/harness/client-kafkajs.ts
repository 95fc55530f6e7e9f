/**
 * Suite 5's drivers for kafkajs and for @confluentinc/kafka-javascript, whose promise API is
 * kafkajs-compatible (settings move into a `kafkaJS` block and acks onto the producer). The
 * Confluent client needs a native librdkafka binary that its install downloads from GitHub:
 * when it is missing, loading it throws and the suite reports it as not installable.
 */
import { CompressionTypes, Kafka, logLevel, Partitioners } from 'kafkajs'
import { type ClientDriver, type DriverOptions, FETCH, batches, timeConsume } from './client-drivers.ts'
import { collectGarbage, now } from './env.ts'

type KeyValue = { key: Buffer; value: Buffer }
type Batch = { batch: { messages: { key: Buffer | null; value: Buffer | null }[] } }

/** The part of the kafkajs API the benchmark uses, which both clients implement. */
interface ProducerLike {
  connect(): Promise<void>
  send(record: { topic: string; messages: KeyValue[]; acks?: number; compression?: number }): Promise<unknown>
  disconnect(): Promise<void>
}

interface ConsumerLike {
  connect(): Promise<void>
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>
  run(config: { autoCommit?: boolean; eachBatch: (payload: Batch) => Promise<void> }): Promise<void>
  disconnect(): Promise<void>
}

interface Flavour {
  producer(): ProducerLike
  /** A consumer of a fresh group that starts at the earliest offset and never commits. */
  consumer(groupId: string, fail: (e: unknown) => void): ConsumerLike
  /** Settings a kafkajs send takes per call and the Confluent client per producer. */
  readonly perSend: { acks?: number; compression?: number }
}

export async function kafkajsDriver({ brokers, clientId }: DriverOptions): Promise<ClientDriver> {
  const kafka = new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING })
  return kafkaJsShaped({
    // DefaultPartitioner: Java-compatible murmur2, as the other two clients are set up.
    producer: () =>
      kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: false,
        allowAutoTopicCreation: false
      }),
    consumer: (groupId, fail) => {
      const consumer = kafka.consumer({
        groupId,
        minBytes: FETCH.minBytes,
        maxBytes: FETCH.maxBytes,
        maxBytesPerPartition: FETCH.maxBytesPerPartition,
        maxWaitTimeInMs: FETCH.maxWaitMs
      })
      consumer.on(consumer.events.CRASH, event => fail(event.payload.error))
      return consumer
    },
    perSend: { acks: -1, compression: CompressionTypes.None }
  })
}

/** The slice of @confluentinc/kafka-javascript's KafkaJS namespace used here. */
interface ConfluentKafkaJs {
  Kafka: new (config: Record<string, unknown>) => {
    producer(config: Record<string, unknown>): ProducerLike
    consumer(config: Record<string, unknown>): ConsumerLike
  }
  logLevel: { NOTHING: number }
  CompressionTypes: { NONE: string }
}

export async function confluentDriver({ brokers, clientId }: DriverOptions): Promise<ClientDriver> {
  // A variable specifier: the package is optional and may be absent when this file is type-checked.
  const name = '@confluentinc/kafka-javascript'
  const mod = (await import(name)) as { KafkaJS?: ConfluentKafkaJs; default?: { KafkaJS: ConfluentKafkaJs } }
  const api = mod.KafkaJS ?? mod.default!.KafkaJS
  const kafka = new api.Kafka({
    kafkaJS: { clientId, brokers: [...brokers], logLevel: api.logLevel.NOTHING }
  })
  return kafkaJsShaped({
    // Its default partitioner is murmur2_random: Java-compatible murmur2 for keyed records.
    producer: () =>
      kafka.producer({
        kafkaJS: {
          acks: -1,
          idempotent: false,
          compression: api.CompressionTypes.NONE,
          allowAutoTopicCreation: false
        }
      }),
    consumer: groupId =>
      kafka.consumer({
        kafkaJS: {
          groupId,
          fromBeginning: true,
          autoCommit: false,
          minBytes: FETCH.minBytes,
          maxBytes: FETCH.maxBytes,
          maxBytesPerPartition: FETCH.maxBytesPerPartition,
          maxWaitTimeInMs: FETCH.maxWaitMs
        }
      }),
    perSend: {}
  })
}

function kafkaJsShaped(flavour: Flavour): ClientDriver {
  return {
    async produce(topic, records, batch) {
      const producer = flavour.producer()
      await producer.connect()
      try {
        const calls = batches(
          records.map(r => ({ key: r.key, value: r.value })),
          batch
        )
        collectGarbage()
        const t0 = now()
        for (const messages of calls) await producer.send({ topic, messages, ...flavour.perSend })
        return now() - t0
      } finally {
        await producer.disconnect()
      }
    },

    async consume(topic, groupId, expected) {
      let consumer: ConsumerLike | undefined
      collectGarbage()
      return await timeConsume(
        expected,
        async (onRecords, fail) => {
          consumer = flavour.consumer(groupId, fail)
          await consumer.connect()
          await consumer.subscribe({ topics: [topic], fromBeginning: true })
          await consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              let size = 0
              for (const m of batch.messages) size += (m.key?.length ?? 0) + (m.value?.length ?? 0)
              onRecords(batch.messages.length, size)
            }
          })
        },
        async () => {
          await consumer?.disconnect()
        }
      )
    }
  }
}
