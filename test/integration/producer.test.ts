import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { KafkaLogAdmin, KafkaLogConsumer } from '../../src/adapters/kafka/index.ts'
import { LABEL_HEADER } from '../../src/domain/event.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { runCli, start } from '../helpers/cli.ts'
import { DATA_PATHS } from '../helpers/data-paths.ts'
import { createTopic, KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'

interface Sent {
  transaction_id: string
  key: string
  label: string
  partition: number
  offset: number
}

function readNdjson<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(l => JSON.parse(l) as T)
}

async function consumeAll(brokers: string[], topic: string, expected: number): Promise<LogRecord[]> {
  const seen: LogRecord[] = []
  const consumer = new KafkaLogConsumer({ brokers, groupId: uniqueName('g-check'), topics: [topic] })
  const running = consumer.run({ onBatch: async recs => void seen.push(...recs) })
  try {
    await waitFor(() => seen.length >= expected, {
      what: `${expected} records on ${topic}`,
      timeoutMs: 60_000
    })
  } finally {
    await consumer.close()
    await running
  }
  return seen
}

test('produce: 50,000 events all consumed back with the right keys and label headers', async t => {
  const topic = await createTopic(t, 'produce', 6)
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-produce-'))
  const sentLog = join(dir, 'sent.ndjson')
  const res = await runCli([
    'produce',
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--topic',
    topic,
    '--rate',
    'max',
    '--count',
    '50000',
    '--customers',
    '5000',
    '--seed',
    '42',
    '--sent-log',
    sentLog,
    '--log-level',
    'warn'
  ])
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stderr, /50000 events to/)
  const sent = readNdjson<Sent>(sentLog)
  assert.equal(sent.length, 50_000)
  assert.equal(new Set(sent.map(s => s.transaction_id)).size, 50_000, 'every event has its own id')

  const records = await consumeAll(KAFKA_BROKERS, topic, 50_000)
  assert.equal(records.length, 50_000)
  const byPosition = new Map(sent.map(s => [`${s.partition}:${s.offset}`, s]))
  let fraudHeaders = 0
  for (const r of records) {
    const s = byPosition.get(`${r.partition}:${r.offset}`)
    assert.ok(s, `record at ${r.partition}:${r.offset} is in the sent-log`)
    assert.equal(r.key?.toString(), s.key, 'key = customer_id')
    assert.equal(r.headers[LABEL_HEADER], s.label, 'label header matches')
    if (s.label !== 'legit' && !s.label.startsWith('invalid') && s.label !== 'malformed_json') fraudHeaders++
    const text = r.value!.toString()
    assert.ok(
      !text.includes(s.label === 'legit' ? 'darooghe-label' : s.label + '"'),
      'labels never in the payload'
    )
    try {
      const e = JSON.parse(text) as { customer_id?: unknown }
      if (typeof e.customer_id === 'string') assert.equal(e.customer_id, s.key)
    } catch {
      assert.equal(s.label, 'malformed_json')
    }
  }
  assert.ok(fraudHeaders > 0, 'injected fraud is labelled in headers')
})

test('produce: broker down at start and up 10 s later → every event exactly once, backoff logged', async t => {
  const kafkaPort = 19092
  const env = {
    KAFKA_PORT: String(kafkaPort),
    KAFKA_CONTROLLER_PORT: '19093',
    DAROOGHE_SERVICES_DIR: mkdtempSync(join(tmpdir(), 'darooghe-kafka2-'))
  }
  const brokers = [`127.0.0.1:${kafkaPort}`]
  t.after(async () => {
    await runCli(['scripts/services.sh', 'down', 'kafka'], { command: 'bash', env })
  })
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-produce-'))
  const topic = uniqueName('t-late-broker')
  const producer = start(
    [
      'produce',
      '--brokers',
      brokers.join(','),
      '--topic',
      topic,
      '--rate',
      '500',
      '--count',
      '3000',
      '--seed',
      '9',
      '--sent-log',
      join(dir, 'sent.ndjson')
    ],
    {}
  )
  t.after(() => producer.child.kill('SIGKILL'))
  // The scenario itself: the broker comes up 10 s after the producer started.
  await delay(10_000)
  assert.equal(producer.child.exitCode, null, 'the producer waits for the broker instead of failing')
  const up = await runCli(['scripts/services.sh', 'up', 'kafka'], { command: 'bash', env })
  assert.equal(up.code, 0, up.stderr + up.stdout)
  const code = await producer.exited
  assert.equal(code, 0, producer.stderr)
  assert.match(producer.stderr, /unavailable, retrying with backoff/)
  assert.match(producer.stderr, /3000 events to/)

  // The log itself holds exactly 3,000 records: a duplicate append would show in the end offsets.
  const admin = new KafkaLogAdmin({ brokers })
  const ends = await admin.endOffsets(topic)
  await admin.close()
  assert.equal(
    ends.reduce((a, b) => a + b, 0),
    3_000
  )
  const records = await consumeAll(brokers, topic, 3_000)
  const ids = records.map(r => `${r.partition}:${r.offset}`)
  assert.equal(records.length, 3_000)
  assert.equal(new Set(ids).size, 3_000)
  const sent = readNdjson<Sent>(join(dir, 'sent.ndjson'))
  assert.equal(sent.length, 3_000)
  const values = new Set(records.map(r => r.value!.toString()))
  assert.equal(values.size, 3_000, 'no event was written twice')
})

test('produce: broker restarted mid-run → nothing lost, nothing duplicated', async t => {
  const kafkaPort = 19094
  const env = {
    KAFKA_PORT: String(kafkaPort),
    KAFKA_CONTROLLER_PORT: '19095',
    DAROOGHE_SERVICES_DIR: mkdtempSync(join(tmpdir(), 'darooghe-kafka3-'))
  }
  const brokers = [`127.0.0.1:${kafkaPort}`]
  t.after(async () => {
    await runCli(['scripts/services.sh', 'down', 'kafka'], { command: 'bash', env })
  })
  const up = await runCli(['scripts/services.sh', 'up', 'kafka'], { command: 'bash', env })
  assert.equal(up.code, 0, up.stderr + up.stdout)
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-produce-'))
  const sentLog = join(dir, 'sent.ndjson')
  const topic = uniqueName('t-restart')
  const producer = start([
    'produce',
    '--brokers',
    brokers.join(','),
    '--topic',
    topic,
    '--rate',
    '400',
    '--count',
    '6000',
    '--seed',
    '11',
    '--sent-log',
    sentLog
  ])
  t.after(() => producer.child.kill('SIGKILL'))
  const acked = (): number => {
    try {
      return readFileSync(sentLog, 'utf8').split('\n').filter(Boolean).length
    } catch {
      return 0
    }
  }
  await waitFor(() => acked() >= 1_500, {
    what: '1,500 acknowledged events before the restart',
    timeoutMs: 60_000
  })
  const down = await runCli(['scripts/services.sh', 'down', 'kafka'], { command: 'bash', env })
  assert.equal(down.code, 0, down.stderr)
  const again = await runCli(['scripts/services.sh', 'up', 'kafka'], { command: 'bash', env })
  assert.equal(again.code, 0, again.stderr + again.stdout)
  assert.equal(await producer.exited, 0, producer.stderr)
  assert.match(producer.stderr, /6000 events to/)

  const admin = new KafkaLogAdmin({ brokers })
  const ends = await admin.endOffsets(topic)
  await admin.close()
  assert.equal(
    ends.reduce((a, b) => a + b, 0),
    6_000,
    'the log holds each event once'
  )
  assert.equal(acked(), 6_000, 'every event acknowledged once in the sent-log')
  const records = await consumeAll(brokers, topic, 6_000)
  assert.equal(new Set(records.map(r => r.value!.toString())).size, 6_000)
})

for (const dataPath of DATA_PATHS)
  test(`produce (${dataPath} data path): a send of several requests (one partition past its per-request cap) lands whole and in order`, async t => {
    const { KafkaLogProducer } = await import('../../src/adapters/kafka/index.ts')
    const topic = await createTopic(t, 'chunks', 2)
    const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS, dataPath })
    t.after(() => producer.close())
    // 2.4 MB for partition 0: four requests in flight at once; a little for partition 1.
    const records = Array.from({ length: 1_300 }, (_, i) => ({
      topic,
      partition: i % 13 === 0 ? 1 : 0,
      key: `k-${i}`,
      value: `${String(i).padStart(6, '0')}:${'x'.repeat(2_000)}`
    }))
    for (let round = 0; round < 2; round++) {
      const acks = await producer.send(records)
      for (let p = 0; p < 2; p++) {
        const offsets = acks.filter((_, i) => records[i]!.partition === p).map(a => a.offset)
        const first = offsets[0]!
        assert.deepEqual(
          offsets,
          offsets.map((_, j) => first + j),
          `partition ${p}: consecutive offsets in send order`
        )
      }
    }
    const seen = await consumeAll(KAFKA_BROKERS, topic, 2 * records.length)
    for (let p = 0; p < 2; p++) {
      const values = seen.filter(r => r.partition === p).map(r => r.value!.toString().slice(0, 6))
      const sent = records.filter(r => r.partition === p).map(r => r.value.slice(0, 6))
      assert.deepEqual(values, [...sent, ...sent], `partition ${p}: each record once, in order`)
    }
  })
