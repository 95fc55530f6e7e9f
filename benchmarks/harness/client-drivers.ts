/**
 * The Kafka clients of suite 5 behind one small interface, each set up for the same
 * workload: keyed records (Java-compatible murmur2 partitioning), acks=all, idempotence off
 * (the default of all three clients), no compression, a fixed number of records per produce
 * call with one call in flight; consumers read from the earliest offset with a fresh group,
 * the same fetch sizes and wait, no offset commits, values left as bytes.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  compatibilityPartitioner,
  Consumer,
  type Message,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  ProduceAcks,
  Producer
} from '@platformatic/kafka'
import { collectGarbage, now } from './env.ts'
import type { WorkloadRecord } from './client-workload.ts'

export const CLIENTS = ['@platformatic/kafka', 'kafkajs', '@confluentinc/kafka-javascript'] as const
export type ClientName = (typeof CLIENTS)[number]

/** Fetch settings of every consumer: kafkajs's defaults, except the wait, which is our detector's. */
export const FETCH = {
  minBytes: 1,
  maxBytes: 10 * 2 ** 20,
  maxBytesPerPartition: 2 ** 20,
  maxWaitMs: 100
} as const

/** Gives up on a consume run that has not reached the end by then (a broken run, not a slow one). */
export const CONSUME_TIMEOUT_MS = 10 * 60_000

export interface ConsumeTiming {
  /** From the consumer's creation (connect, group join, first fetch) to its first record, ms. */
  readonly startMs: number
  /** From the first record to the last expected one, ms. */
  readonly ms: number
  readonly records: number
  /** Bytes of the keys and values read. */
  readonly bytes: number
}

export interface ClientDriver {
  /**
   * Sends the records to `topic` in calls of `batch` records, one call in flight; returns the
   * ms from the first call to the last acknowledgement. Messages are built before the clock starts.
   */
  produce(topic: string, records: readonly WorkloadRecord[], batch: number): Promise<number>
  /** Reads `topic` from the earliest offset with the fresh group `groupId` until `expected` records arrived. */
  consume(topic: string, groupId: string, expected: number): Promise<ConsumeTiming>
}

export interface DriverOptions {
  readonly brokers: readonly string[]
  readonly clientId: string
}

/** Loads a client; throws when it is not installed (or its native part is missing). */
export async function loadDriver(client: ClientName, options: DriverOptions): Promise<ClientDriver> {
  if (client === '@platformatic/kafka') return platformaticDriver(options)
  const { kafkajsDriver, confluentDriver } = await import('./client-kafkajs.ts')
  return client === 'kafkajs' ? await kafkajsDriver(options) : await confluentDriver(options)
}

const require = createRequire(import.meta.url)

/** The installed version of a package, or null when it is not installed. */
export function installedVersion(name: string): string | null {
  try {
    // Some packages do not export package.json: find it next to the resolved entry point.
    const main = require.resolve(name)
    const dir = `node_modules/${name}/`
    const pkg = join(main.slice(0, main.lastIndexOf(dir) + dir.length), 'package.json')
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version
  } catch {
    return null
  }
}

/** Splits records into the per-call batches before any clock starts. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * Times `expected` records arriving through `start`, which calls `onRecords(count, bytes)`
 * per batch; `stop` ends the consumer in all cases.
 */
export async function timeConsume(
  expected: number,
  start: (onRecords: (count: number, bytes: number) => void, fail: (e: unknown) => void) => Promise<void>,
  stop: () => Promise<void>
): Promise<ConsumeTiming> {
  const t0 = now()
  let first = 0
  let last = 0
  let records = 0
  let bytes = 0
  let timer: NodeJS.Timeout | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`read ${records} of ${expected} records in ${CONSUME_TIMEOUT_MS} ms`)),
        CONSUME_TIMEOUT_MS
      )
      const onRecords = (count: number, size: number): void => {
        if (count === 0 || last !== 0) return
        if (first === 0) first = now()
        records += count
        bytes += size
        if (records >= expected) {
          last = now()
          resolve()
        }
      }
      start(onRecords, reject).catch(reject)
    })
  } finally {
    clearTimeout(timer)
    await stop()
  }
  return { startMs: first - t0, ms: last - first, records, bytes }
}

/** A record as the client hands it over without deserializers: bytes. */
type Raw = Message<Buffer, Buffer, Buffer, Buffer>

function platformaticDriver({ brokers, clientId }: DriverOptions): ClientDriver {
  const base = { clientId, bootstrapBrokers: [...brokers] }
  return {
    async produce(topic, records, batch) {
      const producer = new Producer({
        ...base,
        idempotent: false,
        acks: ProduceAcks.ALL,
        compression: 'none',
        partitioner: compatibilityPartitioner,
        autocreateTopics: false
      })
      try {
        const calls = batches(
          records.map(r => ({ topic, key: r.key, value: r.value })),
          batch
        )
        await producer.metadata({ topics: [topic] })
        collectGarbage()
        const t0 = now()
        for (const messages of calls) await producer.send({ messages })
        return now() - t0
      } finally {
        await producer.close()
      }
    },

    async consume(topic, groupId, expected) {
      const consumer = new Consumer({ ...base, groupId })
      let stream: Awaited<ReturnType<typeof consumer.consume>> | undefined
      collectGarbage()
      return await timeConsume(
        expected,
        async (onRecords, fail) => {
          stream = await consumer.consume({
            topics: [topic],
            mode: MessagesStreamModes.COMMITTED,
            fallbackMode: MessagesStreamFallbackModes.EARLIEST,
            autocommit: false,
            minBytes: FETCH.minBytes,
            maxBytes: FETCH.maxBytes,
            maxBytesPerPartition: FETCH.maxBytesPerPartition,
            maxWaitTime: FETCH.maxWaitMs,
            // As our detector's consumer: room for two 5,000-record batches.
            highWaterMark: 10_000
          })
          const s = stream
          s.on('error', fail)
          // One 'readable' drains what the client has buffered: that is the batch.
          s.on('readable', () => {
            let count = 0
            let size = 0
            let m = s.read() as Raw | null
            while (m !== null) {
              count++
              size += (m.key?.length ?? 0) + (m.value?.length ?? 0)
              m = s.read() as Raw | null
            }
            onRecords(count, size)
          })
        },
        async () => {
          await stream?.close().catch(() => {})
          await consumer.close(true)
        }
      )
    }
  }
}
