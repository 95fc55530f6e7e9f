import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { createTopic, KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'

test('10,000 keyed messages through 6 partitions: none lost, per-key order kept', async t => {
  const topic = await createTopic(t, 'smoke', 6)
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS, clientId: 'smoke' })
  t.after(() => producer.close())

  const keys = 50
  const total = 10_000
  const batch: OutRecord[] = []
  for (let i = 0; i < total; i++) {
    const key = `k${i % keys}`
    batch.push({
      topic,
      key,
      value: JSON.stringify({ key, seq: Math.floor(i / keys) }),
      headers: { n: String(i) }
    })
    if (batch.length === 1_000) await producer.send(batch.splice(0))
  }
  await producer.send(batch.splice(0))

  const consumer = new KafkaLogConsumer({
    brokers: KAFKA_BROKERS,
    clientId: 'smoke',
    groupId: uniqueName('g-smoke'),
    topics: [topic],
    maxBatchRecords: 700
  })
  const seen: LogRecord[] = []
  // peekNext: the batch it shows is the very array the next onBatch receives.
  let peeked: readonly LogRecord[] | null = null
  let peeks = 0
  const running = consumer.run({
    onBatch: async records => {
      if (peeked !== null) assert.equal(records, peeked, 'the peeked batch is the one handed out')
      seen.push(...records)
      peeked = consumer.peekNext()
      if (peeked !== null) peeks++
      assert.equal(consumer.peekNext(), peeked, 'peeking again shows the same batch')
    }
  })
  t.after(() => consumer.close())
  await waitFor(() => seen.length >= total, { what: `${total} messages`, timeoutMs: 60_000 })
  await consumer.close()
  await running

  assert.equal(seen.length, total)
  assert.ok(peeks > 0, 'batches were peeked at')
  const partitionsUsed = new Set(seen.map(r => r.partition))
  assert.equal(partitionsUsed.size, 6, 'keys spread over all 6 partitions')
  const last = new Map<string, number>()
  const partitionOfKey = new Map<string, number>()
  for (const r of seen) {
    const { key, seq } = JSON.parse(r.value!.toString()) as { key: string; seq: number }
    assert.equal(r.key?.toString(), key)
    assert.ok(r.headers.n !== undefined, 'headers survive the round trip')
    assert.equal(last.get(key) ?? -1, seq - 1, `key ${key} in order`)
    last.set(key, seq)
    const p = partitionOfKey.get(key)
    if (p !== undefined) assert.equal(r.partition, p, 'one key, one partition')
    partitionOfKey.set(key, r.partition)
  }
  assert.equal(last.size, keys)
  for (const seq of last.values()) assert.equal(seq, total / keys - 1)
})

test('a consumer group resumes after the last committed offset', async t => {
  const topic = await createTopic(t, 'commit', 2)
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  t.after(() => producer.close())
  const groupId = uniqueName('g-commit')
  const send = (from: number, to: number) =>
    producer.send(
      Array.from({ length: to - from }, (_, i) => ({
        topic,
        key: `k${(from + i) % 7}`,
        value: String(from + i)
      }))
    )

  await send(0, 100)
  const first: number[] = []
  const c1 = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId, topics: [topic] })
  const r1 = c1.run({ onBatch: async recs => void first.push(...recs.map(r => Number(r.value!.toString()))) })
  await waitFor(() => first.length >= 100, { what: 'first 100' })
  await c1.close()
  await r1

  await send(100, 150)
  const second: number[] = []
  const c2 = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId, topics: [topic] })
  t.after(() => c2.close())
  const r2 = c2.run({
    onBatch: async recs => void second.push(...recs.map(r => Number(r.value!.toString())))
  })
  await waitFor(() => second.length >= 50, { what: 'next 50' })
  await c2.close()
  await r2
  assert.deepEqual(
    second.sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => 100 + i),
    'only the records after the committed offsets are read again'
  )
})

test('a group whose committed offset is past the log end, or below the log start, starts over at the earliest offset', async t => {
  const topic = await createTopic(t, 'reset', 2)
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS, clientId: 'reset' })
  t.after(() => producer.close())
  const sent: OutRecord[] = []
  for (let i = 0; i < 40; i++) sent.push({ topic, partition: i % 2, key: `k${i}`, value: `v${i}` })
  await producer.send(sent)

  const admin = new Admin({ clientId: 'reset-admin', bootstrapBrokers: [...KAFKA_BROKERS] })
  t.after(() => admin.close())
  // Partition 1: retention removed offsets 0–7 (the log now starts at 8).
  await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 1, offset: 8n }] }] })
  const groupId = uniqueName('g-reset')
  // Partition 0: an offset beyond the end (e.g. a topic recreated under the same name).
  // Partition 1: committed 3, now below the log start.
  await admin.alterConsumerGroupOffsets({
    groupId,
    topics: [
      {
        name: topic,
        partitionOffsets: [
          { partition: 0, offset: 1_000_000n },
          { partition: 1, offset: 3n }
        ]
      }
    ]
  })

  const consumer = new KafkaLogConsumer({
    brokers: KAFKA_BROKERS,
    clientId: 'reset',
    groupId,
    topics: [topic]
  })
  const seen: LogRecord[] = []
  const running = consumer.run({ onBatch: async records => void seen.push(...records) })
  t.after(() => consumer.close())
  await waitFor(() => seen.length >= 32, { what: '32 records after the resets', timeoutMs: 30_000 })
  await consumer.close()
  await running
  const offsets = (p: number): number[] => seen.filter(r => r.partition === p).map(r => r.offset)
  assert.deepEqual(
    offsets(0),
    Array.from({ length: 20 }, (_, i) => i),
    'partition 0 read from its start'
  )
  assert.deepEqual(
    offsets(1),
    Array.from({ length: 12 }, (_, i) => i + 8),
    'partition 1 read from the new log start'
  )
  assert.deepEqual(
    seen.filter(r => r.partition === 0).map(r => r.value!.toString()),
    sent.filter(r => r.partition === 0).map(r => r.value)
  )
})

test('a member with no partition waits quietly: the process stays responsive and the owner consumes', async t => {
  const topic = await createTopic(t, 'idle', 1)
  const groupId = uniqueName('g-idle')
  const make = (): KafkaLogConsumer =>
    new KafkaLogConsumer({ brokers: KAFKA_BROKERS, clientId: 'idle', groupId, topics: [topic] })
  const members = [make(), make()]
  const seen: LogRecord[] = []
  const runs = members.map(m => m.run({ onBatch: async records => void seen.push(...records) }))
  t.after(() => Promise.all(members.map(m => m.close())))
  // The second member gets nothing of a 1-partition topic. A fetch loop that spun on an empty
  // assignment would starve the timers that these waits (and the group's heartbeats) run on.
  await waitFor(() => members.some(m => m.assignment().length === 1), { what: 'an owner', timeoutMs: 30_000 })
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS, clientId: 'idle' })
  t.after(() => producer.close())
  await producer.send([{ topic, key: 'k', value: 'v' }])
  await waitFor(() => seen.length === 1, { what: 'the record, read by the owner', timeoutMs: 30_000 })
  assert.deepEqual(members.map(m => m.assignment().length).sort(), [0, 1])
  await Promise.all(members.map(m => m.close()))
  await Promise.all(runs)
})
