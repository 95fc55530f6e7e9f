import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { readTopicRange } from '../../src/adapters/kafka/read-range.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { runCli } from '../helpers/cli.ts'
import { FIXTURE } from '../helpers/analytics-fixture.ts'
import { createTopic, KAFKA_BROKERS, uniqueName } from '../helpers/services.ts'

async function all(it: AsyncIterable<LogRecord[]>): Promise<LogRecord[]> {
  const out: LogRecord[] = []
  for await (const batch of it) out.push(...batch)
  return out
}

test('analyze reads a Kafka topic from the beginning or a timestamp, up to the end offsets at start', async t => {
  const topic = await createTopic(t, 'analyze', 3)
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS, clientId: 'test-analyze' })
  t.after(() => producer.close())
  // Record timestamp = event time, as `darooghe produce --history` writes them.
  await producer.send(
    FIXTURE.map(e => ({
      topic,
      key: e.customer_id,
      value: JSON.stringify(e),
      timestamp: Date.parse(String(e.timestamp))
    }))
  )
  await producer.send([
    { topic, key: 'cust_9', value: 'not json', timestamp: Date.parse('2026-01-11T00:00:00Z') }
  ])

  const everything = await all(readTopicRange({ brokers: KAFKA_BROKERS, topic, batchSize: 3 }))
  assert.equal(everything.length, 8)

  const since = await all(
    readTopicRange({ brokers: KAFKA_BROKERS, topic, fromTimestampMs: Date.parse('2026-01-07T00:00:00Z') })
  )
  // a4, a5, a6, a7 and the broken record are stamped on or after the 7th
  assert.equal(since.length, 5)

  const r = await runCli(
    [
      'analyze',
      '--topic',
      topic,
      '--brokers',
      KAFKA_BROKERS.join(','),
      '--from-timestamp',
      '2026-01-07T00:00:00Z'
    ],
    {}
  )
  assert.equal(r.code, 0, r.stderr)
  // 150k + 300k + 400k + 60k over 4 transactions
  assert.match(r.stdout, /^analyzed 4 transactions from kafka .* \(skipped 1: not_json 1\)$/m)
  assert.match(r.stdout, /total value 910,000 Rial · average 227,500 Rial · commission 13,600 Rial/)
})

test('reading a topic that does not exist fails with one line naming the fix', async () => {
  const missing = uniqueName('t-analyze-missing')
  const r = await runCli(['analyze', '--topic', missing, '--brokers', KAFKA_BROKERS.join(',')])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /^darooghe: cannot read the offsets of topic 't-analyze-missing-/)
  assert.equal(r.stderr.trim().split('\n').length, 1)
})
