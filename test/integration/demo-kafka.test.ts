import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import { kafkaBackend } from '../../src/apps/demo/backend.ts'
import { startDemo } from '../../src/apps/demo/demo.ts'
import { silentLogger } from '../../src/logger.ts'
import { KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'

test('darooghe demo on Kafka: every stage runs on the broker and Ctrl-C drains and closes', async t => {
  const prefix = `${uniqueName('demo')}.`
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS, clientId: 'test-admin' })
  t.after(async () => {
    const mine = (await admin.listTopics()).filter(x => x.name.startsWith(prefix)).map(x => x.name)
    await admin.deleteTopics(mine).catch(() => {})
    await admin.close()
  })
  const abort = new AbortController()
  t.after(() => abort.abort())
  const delivered: string[] = []
  const handle = await startDemo({
    generator: { start: Date.now(), seed: 7, rate: 100, fraudRate: 0.2, customers: 200 },
    rules: 'default',
    log: silentLogger,
    signal: abort.signal,
    backend: kafkaBackend({ brokers: KAFKA_BROKERS }),
    partitions: 2,
    prefix,
    sinks: [{ name: 'memory', deliver: async a => void delivered.push(a.alert_id) }]
  })
  await waitFor(() => handle.live.totals.events >= 100 && delivered.length > 0, {
    what: 'decisions in the live view and an alert delivered',
    timeoutMs: 60_000
  })
  const topics = await handle.backend.browser.topics()
  const input = topics.find(x => x.name === `${prefix}darooghe.transactions`)
  assert.ok(input, 'the input topic is on the broker')
  assert.ok(input.groups.some(g => g.group === `${prefix}darooghe-demo-detector`))
  const messages = await handle.backend.browser.messages(`${prefix}darooghe.transactions`, 3)
  assert.equal(messages?.length, 3)
  abort.abort()
  await handle.done
  assert.ok(handle.live.totals.alerts > 0)
  // Every alert the live view read was delivered by the dispatcher (both consume the same topic).
  for (const a of handle.live.alerts(500)) assert.ok(delivered.includes(a.alert_id), a.alert_id)
})
