import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { Connection, fetchV12, Producer, type Reader, stringSerializer } from '@platformatic/kafka'
import { KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import type { KafkaCompression } from '../../src/adapters/kafka/options.ts'
import { type PartitionData, parseFetchResponse } from '../../src/adapters/kafka/protocol/fetch-v12-v17.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { createTopic, KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'

/**
 * Every codec both ways against the real broker and librdkafka: our producer's batches read back
 * by `kcat -C`, kcat's batches (`kcat -P -z`) read by our consumer, and the client library's own
 * zstd producer (which fails on Node 20 without our codec). Partition i carries codec i.
 */
const run = promisify(execFile)
const CODECS: KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const PER_CODEC = 300

function records(topic: string, codec: KafkaCompression, partition: number): OutRecord[] {
  return Array.from({ length: PER_CODEC }, (_, i) => ({
    topic,
    partition,
    key: `k-${codec}-${i}`,
    value: JSON.stringify({ codec, i, text: 'payment '.repeat(i % 20) }),
    headers: { codec }
  }))
}

/** The compression bits of the first batch of each partition, read with a raw Fetch. */
async function batchCodecs(topic: string, partitions: number): Promise<number[]> {
  const [host, port] = KAFKA_BROKERS[0]!.split(':') as [string, string]
  const connection = new Connection('test-fetch')
  try {
    await connection.connect(host, Number(port))
    const parts = await new Promise<PartitionData[]>((resolve, reject) => {
      const topics = [
        {
          topicId: topic,
          partitions: Array.from({ length: partitions }, (_, partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            partitionMaxBytes: 1 << 20
          }))
        }
      ]
      connection.send(
        1,
        12,
        () => (fetchV12.createRequest as (...a: unknown[]) => never)(0, 1, 4 << 20, 0, 0, -1, topics, [], ''),
        parseFetchResponse as (c: number, k: number, v: number, r: Reader) => PartitionData[],
        true,
        true,
        (error, value) => (error ? reject(error) : resolve(value as PartitionData[]))
      )
    })
    // A partition's codec: the one its batches carry. A producer may send a batch that does not
    // shrink uncompressed (librdkafka does, e.g. a first batch of one record), so any batch counts.
    return parts
      .sort((a, b) => a.partition - b.partition)
      .map(p => {
        const buf = p.records!
        let codec = 0
        for (let at = 0; at + 23 <= buf.length; at += 12 + buf.readInt32BE(at + 8)) {
          codec = Math.max(codec, buf.readInt16BE(at + 21) & 7)
        }
        return codec
      })
  } finally {
    await connection.close()
  }
}

async function consumeAll(topic: string, count: number): Promise<LogRecord[]> {
  const consumer = new KafkaLogConsumer({
    brokers: KAFKA_BROKERS,
    clientId: 'test-codecs',
    groupId: uniqueName('g-codecs'),
    topics: [topic]
  })
  const seen: LogRecord[] = []
  const running = consumer.run({ onBatch: async batch => void seen.push(...batch) })
  try {
    await waitFor(() => seen.length >= count, { what: `${count} records`, timeoutMs: 60_000 })
  } finally {
    await consumer.close()
    await running
  }
  return seen
}

test('our producer writes every codec; kcat reads each back, and the batches carry the codec', async t => {
  const topic = await createTopic(t, 'codecs-out', CODECS.length)
  for (const [partition, codec] of CODECS.entries()) {
    const producer = new KafkaLogProducer({
      brokers: KAFKA_BROKERS,
      clientId: 'test-codecs',
      compression: codec
    })
    try {
      await producer.send(records(topic, codec, partition))
    } finally {
      await producer.close()
    }
  }
  assert.deepEqual(await batchCodecs(topic, CODECS.length), [0, 1, 2, 3, 4])
  const { stdout } = await run(
    'kcat',
    ['-C', '-e', '-q', '-b', KAFKA_BROKERS.join(','), '-t', topic, '-f', '%p|%k|%h|%s\n'],
    { timeout: 60_000, maxBuffer: 64 << 20 }
  )
  const read = stdout.split('\n').filter(Boolean)
  assert.equal(read.length, CODECS.length * PER_CODEC)
  for (const [partition, codec] of CODECS.entries()) {
    const expected = records(topic, codec, partition).map(
      r => `${partition}|${r.key}|codec=${codec}|${r.value}`
    )
    assert.deepEqual(
      read.filter(line => line.startsWith(`${partition}|`)),
      expected,
      codec
    )
  }
})

test('kcat writes every codec (-z); our consumer reads each', async t => {
  const topic = await createTopic(t, 'codecs-in', CODECS.length)
  for (const [partition, codec] of CODECS.entries()) {
    const lines = records(topic, codec, partition).map(r => `${r.key}|${r.value}`)
    execFileSync(
      'kcat',
      ['-P', '-b', KAFKA_BROKERS.join(','), '-t', topic, '-p', String(partition), '-z', codec, '-K', '|'],
      { input: lines.join('\n') + '\n', timeout: 60_000 }
    )
  }
  assert.deepEqual(await batchCodecs(topic, CODECS.length), [0, 1, 2, 3, 4])
  const seen = await consumeAll(topic, CODECS.length * PER_CODEC)
  assert.equal(seen.length, CODECS.length * PER_CODEC)
  for (const [partition, codec] of CODECS.entries()) {
    assert.deepEqual(
      seen
        .filter(r => r.partition === partition)
        .map(r => [r.offset, r.key!.toString(), r.value!.toString()]),
      records(topic, codec, partition).map((r, i) => [i, r.key, r.value]),
      codec
    )
  }
})

test("the client library's own producer writes zstd on this Node; our consumer reads it", async t => {
  const topic = await createTopic(t, 'codecs-lib', 1)
  // The library's data path: a codec the adapter's import filled in (compression.ts).
  const producer = new Producer({
    clientId: 'test-codecs-lib',
    bootstrapBrokers: KAFKA_BROKERS,
    compression: 'zstd',
    serializers: { key: stringSerializer, value: stringSerializer }
  })
  t.after(() => producer.close())
  const sent = records(topic, 'zstd', 0)
  await producer.send({
    messages: sent.map(r => ({ topic, partition: 0, key: r.key as string, value: r.value as string }))
  })
  assert.deepEqual(await batchCodecs(topic, 1), [4])
  const seen = await consumeAll(topic, PER_CODEC)
  assert.deepEqual(
    seen.map(r => r.value!.toString()),
    sent.map(r => r.value)
  )
})
