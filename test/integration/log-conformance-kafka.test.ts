import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { DATA_PATHS } from '../helpers/data-paths.ts'
import { logConformance } from '../helpers/log-conformance.ts'
import { createTopic, KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'
import type { LogRecord } from '../../src/ports/log.ts'

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
