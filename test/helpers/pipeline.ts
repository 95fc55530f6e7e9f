/** Helpers of the tests that run the pipeline on the real Kafka: topics, traffic, reading outputs. */
import type { TestContext } from 'node:test'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { createGenerator, type GeneratedRecord } from '../../src/apps/generator/index.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { createTopic, KAFKA_BROKERS, REDIS_URL, uniqueName, waitFor } from './services.ts'

export interface Topics {
  input: string
  approved: string
  fraud: string
  alerts: string
  errors: string
}

export async function makeTopics(t: TestContext, partitions = 6): Promise<Topics> {
  const [input, approved, fraud, alerts, errors] = await Promise.all(
    ['in', 'approved', 'fraud', 'alerts', 'errors'].map(n => createTopic(t, n, partitions))
  )
  return { input: input!, approved: approved!, fraud: fraud!, alerts: alerts!, errors: errors! }
}

/** Generator events with event times in the recent past (so none is late or too old). */
export function generate(count: number, seed: string): GeneratedRecord[] {
  const rate = 50
  const gen = createGenerator({
    start: Date.now() - (count / rate) * 1000 - 5_000,
    seed,
    customers: 3_000,
    rate,
    count
  })
  const out: GeneratedRecord[] = []
  for (let r = gen.next(); r !== undefined; r = gen.next()) out.push(r)
  return out
}

export async function produceAll(topic: string, records: readonly GeneratedRecord[]): Promise<void> {
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  try {
    for (let i = 0; i < records.length; i += 5_000) {
      const batch: OutRecord[] = records
        .slice(i, i + 5_000)
        .map(r => ({ topic, key: r.key, value: r.raw, timestamp: r.eventTimeMs }))
      await producer.send(batch)
    }
  } finally {
    await producer.close()
  }
}

export async function waitCommitted(group: string, topic: string, timeoutMs = 120_000): Promise<void> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    const ends = await admin.endOffsets(topic)
    await waitFor(
      async () => {
        const committed = await admin.committedOffsets(group, topic)
        return committed.every((c, i) => c === ends[i])
      },
      { what: `group ${group} to commit the end of ${topic}`, timeoutMs, intervalMs: 200 }
    )
  } finally {
    await admin.close()
  }
}

/** Reads every record of the topics (from the beginning) until `done(records)` says so. */
export async function readTopics(
  topics: string[],
  done: (records: LogRecord[]) => boolean
): Promise<LogRecord[]> {
  const seen: LogRecord[] = []
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: uniqueName('g-read'), topics })
  const running = consumer.run({ onBatch: async recs => void seen.push(...recs) })
  try {
    await waitFor(() => done(seen), { what: `records on ${topics.join(', ')}`, timeoutMs: 60_000 })
  } finally {
    await consumer.close()
    await running
  }
  return seen
}

export type Json = Record<string, unknown>
export const parse = (r: LogRecord): Json => JSON.parse(r.value!.toString()) as Json

/** `darooghe detect` flags for a group on the test's own topics. */
export function detectorArgs(topics: Topics, group: string): string[] {
  const args = ['--topic', topics.input, '--group', group]
  for (const role of ['approved', 'fraud', 'alerts', 'errors'] as const)
    args.push(`--${role}-topic`, topics[role])
  return args
}

/** Deletes the Redis state a `darooghe` command kept for `group` once the test ends. */
export function clearStateAfter(t: TestContext, group: string): void {
  t.after(async () => {
    const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `darooghe:${group}:` })
    await store.clear()
    await store.close()
  })
}
