import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Producer, stringSerializer } from '@platformatic/kafka'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { DATA_PATHS } from '../helpers/data-paths.ts'
import { logConformance } from '../helpers/log-conformance.ts'
import { createTopic, KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'
import type { KafkaDataPath } from '../../src/adapters/kafka/options.ts'
import { toKafkaMessage } from '../../src/adapters/kafka/records.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'

// The same suite on each data path: ours (direct) and the client library's public API.
for (const dataPath of DATA_PATHS) {
  logConformance(`kafka (${dataPath} data path)`, t => {
    const connection = { brokers: KAFKA_BROKERS, clientId: `conformance-${dataPath}`, dataPath }
    const producer = new KafkaLogProducer(connection)
    const admin = new KafkaLogAdmin(connection)
    return {
      producer,
      admin,
      // Short sessions keep rebalances (a member joining or leaving) to about a second.
      consumer: (groupId, topics, options) =>
        new KafkaLogConsumer({
          ...connection,
          sessionTimeoutMs: 6_000,
          heartbeatIntervalMs: 500,
          ...options,
          groupId,
          topics
        }),
      createTopic: partitions => createTopic(t, 'conformance', partitions),
      cleanup: async () => {
        await producer.close()
        await admin.close()
      }
    }
  })

  test(`kafka (${dataPath} data path): gzip-compressed batches read back whole`, async t => {
    const connection = { brokers: KAFKA_BROKERS, clientId: `conformance-${dataPath}`, dataPath }
    const topic = await createTopic(t, 'gzip', 2)
    const producer = new KafkaLogProducer({ ...connection, compression: 'gzip' })
    t.after(() => producer.close())
    const sent = Array.from({ length: 500 }, (_, i) => ({
      topic,
      key: `k${i % 9}`,
      value: `v-${i}`.repeat(20)
    }))
    await producer.send(sent)
    const consumer = new KafkaLogConsumer({ ...connection, groupId: uniqueName('g-gzip'), topics: [topic] })
    t.after(() => consumer.close())
    const seen: LogRecord[] = []
    const running = consumer.run({ onBatch: async records => void seen.push(...records) })
    await waitFor(() => seen.length >= sent.length, { what: 'all records' })
    await consumer.close()
    await running
    assert.deepEqual(seen.map(r => r.value!.toString()).sort(), sent.map(r => r.value).sort())
  })

  describe(`kafka transactions (${dataPath} data path)`, () => {
    test('read_committed skips an aborted transaction and its markers; read_uncommitted sees it', async t => {
      const connection = { brokers: KAFKA_BROKERS, clientId: `conformance-${dataPath}`, dataPath }
      const topic = await createTopic(t, 'aborted', 2)
      const plain = new KafkaLogProducer(connection)
      t.after(() => plain.close())
      const send = (value: string) =>
        Array.from({ length: 6 }, (_, i) => ({ topic, key: `k${i}`, value: `${value}-${i}` }))
      await plain.send(send('before'))
      const tx = new KafkaLogProducer({ ...connection, transactionalId: uniqueName('tx-abort') })
      await tx.send(send('aborted'))
      await tx.close() // closing with a transaction open aborts it
      await plain.send(send('after'))

      const read = async (readCommitted: boolean, expected: number): Promise<string[]> => {
        const consumer = new KafkaLogConsumer({
          ...connection,
          groupId: uniqueName('g-isolation'),
          topics: [topic],
          readCommitted
        })
        t.after(() => consumer.close())
        const seen: LogRecord[] = []
        const running = consumer.run({ onBatch: async records => void seen.push(...records) })
        await waitFor(() => seen.length >= expected, { what: `${expected} records` })
        await consumer.close()
        await running
        return seen.map(r => r.value!.toString()).sort()
      }
      const committed = await read(true, 12)
      assert.deepEqual(committed, [...send('after'), ...send('before')].map(r => r.value).sort())
      const all = await read(false, 18)
      assert.equal(all.filter(v => v.startsWith('aborted')).length, 6)
    })
  })
}

// Differential: the two data paths read the same log into the same records.
test('kafka data paths agree: the same records, offsets, headers and timestamps, committed and aborted transactions', async t => {
  const connection = { brokers: KAFKA_BROKERS, clientId: 'conformance-differential' }
  const topic = await createTopic(t, 'differential', 3)
  const plain = new KafkaLogProducer(connection)
  t.after(() => plain.close())
  const batch = (tag: string, n: number): OutRecord[] =>
    Array.from({ length: n }, (_, i) => ({
      topic,
      key: i % 5 === 0 ? null : `k${i % 7}`,
      value: i % 11 === 0 ? null : `${tag}-${i}`,
      headers: (i % 3 === 0 ? { tag, i: String(i) } : {}) as Record<string, string>,
      timestamp: 1_700_000_000_000 + i
    }))
  await plain.send(batch('plain', 300))
  const aborted = new KafkaLogProducer({ ...connection, transactionalId: uniqueName('tx-diff-abort') })
  await aborted.send(batch('aborted', 120))
  await aborted.close()
  const committed = new Producer({
    clientId: 'conformance-differential-tx',
    bootstrapBrokers: [...KAFKA_BROKERS],
    idempotent: true,
    transactionalId: uniqueName('tx-diff-commit'),
    serializers: { headerKey: stringSerializer, headerValue: stringSerializer }
  })
  t.after(() => committed.close())
  const tx = await committed.beginTransaction()
  await tx.send({ messages: batch('committed', 90).map(r => ({ ...toKafkaMessage(r), partition: 1 })) })
  await tx.commit()
  await plain.send(batch('after', 60))

  const readAll = async (dataPath: KafkaDataPath, readCommitted: boolean, expected: number) => {
    const consumer = new KafkaLogConsumer({
      ...connection,
      dataPath,
      readCommitted,
      groupId: uniqueName('g-diff'),
      topics: [topic]
    })
    t.after(() => consumer.close())
    const seen: LogRecord[] = []
    const running = consumer.run({ onBatch: async records => void seen.push(...records) })
    await waitFor(() => seen.length >= expected, { what: `${expected} records on the ${dataPath} path` })
    await consumer.close()
    await running
    return seen
      .map(r => ({
        ...r,
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        headers: { ...r.headers }
      }))
      .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  }
  for (const readCommitted of [true, false]) {
    const expected = readCommitted ? 450 : 570
    const direct = await readAll('direct', readCommitted, expected)
    const library = await readAll('library', readCommitted, expected)
    assert.equal(direct.length, expected)
    assert.deepEqual(library, direct, `read_committed=${readCommitted}: both paths read the same records`)
  }
})
