import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { KafkaTopicBrowser, LiveView, runLiveView, startKafkaFeed } from '../../src/apps/live/index.ts'
import { silentLogger } from '../../src/logger.ts'
import { KAFKA_BROKERS, createTopic, uniqueName, waitFor } from '../helpers/services.ts'

test('the Kafka topic browser lists end offsets, group lag and the newest messages', async t => {
  const topic = await createTopic(t, 'browse', 3)
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  t.after(() => producer.close())
  const records = Array.from({ length: 12 }, (_, i) => ({
    topic,
    key: `k${i % 4}`,
    value: JSON.stringify({ n: i }),
    headers: { source: 'test' }
  }))
  await producer.send(records)

  // A group that reads everything and commits: its lag goes to 0.
  const group = uniqueName('g-browse')
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: group, topics: [topic] })
  let read = 0
  const running = consumer.run({ onBatch: async batch => void (read += batch.length) })
  await waitFor(() => read >= 12, { what: 'the group to read 12 records' })

  const browser = new KafkaTopicBrowser({ brokers: KAFKA_BROKERS })
  t.after(() => browser.close())
  const summary = await waitFor(
    async () => {
      const s = (await browser.topics()).find(x => x.name === topic)
      return s?.groups.find(g => g.group === group && g.total_lag === 0) ? s : undefined
    },
    { what: 'the group committed to the end' }
  )
  await consumer.close()
  await running
  assert.equal(summary.partitions, 3)
  assert.equal(
    summary.end_offsets.reduce((a, b) => a + b, 0),
    12
  )

  const messages = await browser.messages(topic, 5)
  assert.ok(messages)
  assert.equal(messages.length, 5)
  for (const m of messages) {
    assert.deepEqual(Object.keys(m.value as object), ['n'])
    assert.equal(m.headers.source, 'test')
    assert.match(m.key ?? '', /^k\d$/)
  }
  assert.equal(await browser.messages(uniqueName('no-such-topic'), 5), undefined)
})

test('a LiveView fed from Kafka counts decisions and alerts', async t => {
  const approved = await createTopic(t, 'live-approved', 2)
  const alerts = await createTopic(t, 'live-alerts', 1)
  const view = new LiveView({ topics: { approved, fraud: approved, alerts, analytics: approved + '-none' } })
  const consumer = new KafkaLogConsumer({
    brokers: KAFKA_BROKERS,
    groupId: uniqueName('g-live'),
    topics: [approved, alerts]
  })
  const running = runLiveView({ consumer, view })
  t.after(async () => {
    await consumer.close()
    await running
  })
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  t.after(() => producer.close())
  const eventTime = new Date().toISOString()
  await producer.send([
    { topic: approved, key: 'c1', value: JSON.stringify({ event_time: eventTime, decision: 'approved' }) },
    { topic: approved, key: 'c2', value: JSON.stringify({ event_time: eventTime, decision: 'fraud' }) },
    {
      topic: alerts,
      key: 'c2',
      value: JSON.stringify({ alert_id: 'alert-1', rules_fired: ['velocity'], trace: {} })
    }
  ])
  await waitFor(() => view.totals.events === 2 && view.totals.alerts === 1, { what: 'the view to count' })
  assert.equal(view.totals.fraud, 1)
  assert.equal(view.alert('alert-1')?.rules_fired[0], 'velocity')
})

test('the serve feed creates missing topics, reads from their end and stops cleanly', async t => {
  const prefix = uniqueName('t-feed')
  const names = {
    approved: `${prefix}-a`,
    fraud: `${prefix}-f`,
    alerts: `${prefix}-al`,
    analytics: `${prefix}-an`
  }
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS, clientId: 'test-admin' })
  t.after(async () => {
    await admin.deleteTopics(Object.values(names)).catch(() => {})
    await admin.close()
  })
  const view = new LiveView({ topics: names })
  const feed = startKafkaFeed({
    brokers: KAFKA_BROKERS,
    live: view,
    groupId: uniqueName('g-feed'),
    log: silentLogger,
    partitions: 2
  })
  let stopped = false
  t.after(async () => {
    if (!stopped) await feed.stop()
  })
  await waitFor(async () => (await admin.listTopics()).filter(x => x.name.startsWith(prefix)).length === 4, {
    what: 'the feed to create its topics'
  })
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  t.after(() => producer.close())
  // Records produced until the group has joined: it starts at the end, so earlier ones are skipped.
  await waitFor(
    async () => {
      await producer.send([
        {
          topic: names.fraud,
          key: 'c',
          value: JSON.stringify({ event_time: new Date().toISOString(), decision: 'fraud' })
        }
      ])
      return view.totals.fraud > 0
    },
    { what: 'the view to read a decision', intervalMs: 500 }
  )
  await feed.stop()
  stopped = true
})
