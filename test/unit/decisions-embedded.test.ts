import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryDecisionStore } from '../../src/adapters/memory/decision-store.ts'
import { buildApi, DecisionService } from '../../src/apps/api/index.ts'
import { memoryBackend } from '../../src/apps/demo/backend.ts'
import { startDemo } from '../../src/apps/demo/demo.ts'
import { DEFAULT_REPLY_TOPIC } from '../../src/domain/reply.ts'
import { silentLogger } from '../../src/logger.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import { makeEvent } from '../topology/fixtures.ts'

test('the embedded demo decides POST /v1/decisions through its own stream, as the stream decides', async t => {
  const abort = new AbortController()
  const backend = memoryBackend()
  const handle = await startDemo({
    generator: { start: Date.now(), seed: 3, rate: 20, customers: 50 },
    rules: 'default',
    log: silentLogger,
    signal: abort.signal,
    backend
  })
  const decisions = new DecisionService({
    bus: backend.decisionBus({
      input: 'darooghe.transactions',
      replies: DEFAULT_REPLY_TOPIC,
      log: silentLogger
    }),
    store: new MemoryDecisionStore(),
    topic: 'darooghe.transactions',
    replyTopic: DEFAULT_REPLY_TOPIC,
    timeoutMs: 5_000,
    ttlMs: 60_000,
    log: silentLogger
  })
  await decisions.start()
  const app = buildApi({ metrics: new Metrics({ defaultMetrics: false }), decisions })
  t.after(async () => {
    await app.close()
    abort.abort()
    await handle.done
    await decisions.close()
  })
  const post = (body: unknown) =>
    app.inject({
      method: 'POST',
      url: '/v1/decisions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body)
    })

  const now = Date.now()
  const events = Array.from({ length: 7 }, (_, i) =>
    makeEvent({ t: now - 7_000 + i * 1_000, customer_id: 'api_customer', transaction_id: `api-txn-${i}` })
  )
  const answers = []
  for (const e of events) answers.push(await post(e))
  assert.deepEqual(
    answers.map(a => a.statusCode),
    events.map(() => 200)
  )
  const decided = answers.map(a => a.json() as { decision: string; trace: { velocity: { count: number } } })
  assert.deepEqual(
    decided.map(d => d.trace.velocity.count),
    [1, 2, 3, 4, 5, 6, 7],
    'each decided on the state of the ones before'
  )
  assert.equal(decided[6]!.decision, 'fraud')
  // The response is the record on the decision topics, byte for byte, and it is there once.
  const log = backend.log
  const onTopics = ['darooghe.transactions.approved', 'darooghe.transactions.fraud'].flatMap(topic =>
    log.lastRecords(topic, 100_000).filter(r => r.key?.toString() === 'api_customer')
  )
  assert.equal(onTopics.length, 7)
  for (const a of answers) {
    const id = (a.json() as { transaction_id: string }).transaction_id
    const rec = onTopics.filter(r => JSON.parse(r.value!.toString()).transaction_id === id)
    assert.equal(rec.length, 1)
    assert.equal(a.body, rec[0]!.value!.toString())
  }
  // A retry is answered from the store; nothing new on the topics.
  const again = await post(events[3])
  assert.equal(again.body, answers[3]!.body)
  const decidedOnce = log
    .lastRecords('darooghe.transactions.approved', 100_000)
    .concat(log.lastRecords('darooghe.transactions.fraud', 100_000))
    .filter(r => JSON.parse(r.value!.toString()).transaction_id === 'api-txn-3')
  assert.equal(decidedOnce.length, 1, 'the retry was not evaluated again')
  const bad = await post({ ...events[0], transaction_id: 'api-bad', amount: -5 })
  assert.equal(bad.statusCode, 422)
  assert.equal(bad.json().transaction_id, 'api-bad')
  assert.ok(bad.json().error_codes.length > 0)
  const errors = log.lastRecords('darooghe.error_logs', 100_000)
  assert.ok(errors.some(r => JSON.parse(r.value!.toString()).transaction_id === 'api-bad'))
})
