import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { seedProfiles } from '../../src/apps/processor/index.ts'
import { northOf } from '../../src/domain/geo.ts'
import { parseRuleSet } from '../../src/domain/rules/rule-set.ts'
import { makeEvent, T0, TEHRAN, toRecords } from './fixtures.ts'
import { on, TopologyDriver } from './driver.ts'
import { readFrames } from '../../src/stream/journal.ts'

const APPROVED = 'darooghe.transactions.approved'
const FRAUD = 'darooghe.transactions.fraud'
const ALERTS = 'darooghe.fraud_alerts'
const ERRORS = 'darooghe.error_logs'

describe('routing', () => {
  test('an ordinary event is approved: the original event enriched with the decision', async () => {
    const d = new TopologyDriver()
    const e = makeEvent({ t: T0 })
    const recs = toRecords([e], { offset: 41, timestamp: T0 + 1_000 })
    d.clock.set(T0 + 1_250)
    const [out, ...rest] = await d.pipe(recs)
    assert.equal(rest.length, 0)
    assert.equal(out!.topic, APPROVED)
    assert.equal(out!.key, 'cust_1')
    const v = out!.value
    for (const [k, x] of Object.entries(e)) assert.deepEqual(v[k], x, k)
    assert.equal(v.event_time, '2025-05-01T12:00:00.000Z')
    assert.equal(v.decision, 'approved')
    assert.equal(v.risk_score, 0)
    assert.deepEqual(v.rules_fired, [])
    assert.deepEqual(Object.keys(v.trace), ['velocity', 'impossible_travel', 'amount_anomaly'])
    assert.deepEqual(v.trace.velocity, { fired: false, count: 1, window_s: 120, max_count: 5 })
    assert.equal(v.processing_latency_ms, 250)
    assert.equal(v.processed_at, new Date(T0 + 1_250).toISOString())
    assert.deepEqual(v.source, { topic: 'darooghe.transactions', partition: 0, offset: 41 })
  })

  test('the sixth transaction in two minutes is fraud, with an alert explaining it', async () => {
    const d = new TopologyDriver()
    const events = Array.from({ length: 6 }, (_, i) => makeEvent({ t: T0 + i * 20_000 }))
    const outs = await d.pipe(toRecords(events))
    assert.equal(on(outs, APPROVED).length, 5)
    const [fraud] = on(outs, FRAUD)
    const [alert] = on(outs, ALERTS)
    assert.equal(fraud!.value.transaction_id, events[5]!.transaction_id)
    assert.deepEqual(fraud!.value.rules_fired, ['velocity'])
    assert.deepEqual(fraud!.value.trace.velocity, { fired: true, count: 6, window_s: 120, max_count: 5 })
    assert.ok(fraud!.value.risk_score > 80)
    assert.deepEqual(
      { ...alert!.value, trace: undefined },
      {
        alert_id: `alert-${events[5]!.transaction_id}`,
        created_at: new Date(d.clock.now()).toISOString(),
        severity: 'high',
        customer_id: 'cust_1',
        transaction_id: events[5]!.transaction_id,
        merchant_id: 'merch_1',
        amount: 100_000,
        event_time: new Date(T0 + 100_000).toISOString(),
        decision: 'fraud',
        risk_score: fraud!.value.risk_score,
        rules_fired: ['velocity'],
        processing_latency_ms: fraud!.value.processing_latency_ms,
        source: fraud!.value.source,
        trace: undefined
      }
    )
    assert.deepEqual(alert!.value.trace, fraud!.value.trace)
    // Output order follows input order: the fraud decision, then its alert.
    assert.deepEqual(
      outs.slice(-2).map(o => o.topic),
      [FRAUD, ALERTS]
    )
  })

  test('impossible travel and amount anomaly are routed to fraud with their numbers', async () => {
    const d = new TopologyDriver()
    const far = northOf(TEHRAN.lat, TEHRAN.lng, 63.2)
    const events = [
      makeEvent({ t: T0, amount: 100_000 }),
      makeEvent({ t: T0 + 1_000, amount: 100_000 }),
      makeEvent({ t: T0 + 2_000, amount: 100_000 }),
      makeEvent({ t: T0 + 240_000, location: far }),
      makeEvent({ t: T0 + 900_000, amount: 1_120_000, location: far })
    ]
    const outs = on(await d.pipe(toRecords(events, { timestamp: T0 + 901_000 })), FRAUD)
    assert.equal(outs.length, 2)
    assert.deepEqual(outs[0]!.value.rules_fired, ['impossible_travel'])
    assert.equal(outs[0]!.value.trace.impossible_travel.km, 63.2)
    assert.equal(outs[0]!.value.trace.impossible_travel.minutes, 3.97)
    assert.deepEqual(outs[1]!.value.rules_fired, ['amount_anomaly'])
    assert.equal(outs[1]!.value.trace.amount_anomaly.ratio, 11.2)
    assert.equal(outs[1]!.value.trace.amount_anomaly.history, 4)
  })

  test('a high risk score without a fraud rule is approved and still alerts (threshold configurable)', async () => {
    const rules = parseRuleSet(
      {
        name: 'score',
        rules: [
          { id: 'big', type: 'amount_threshold', params: { amount: 500_000 }, fraud: false, weight: 81 }
        ]
      },
      'test'
    )
    const d = new TopologyDriver({ rules })
    const outs = await d.pipe(toRecords([makeEvent({ t: T0, amount: 600_000 })]))
    assert.deepEqual(
      outs.map(o => o.topic),
      [APPROVED, ALERTS]
    )
    assert.equal(outs[1]!.value.decision, 'approved')
    assert.equal(outs[1]!.value.severity, 'medium')
    const strict = new TopologyDriver({ rules, options: { alertThreshold: 90 } })
    assert.deepEqual(
      (await strict.pipe(toRecords([makeEvent({ t: T0, amount: 600_000 })]))).map(o => o.topic),
      [APPROVED]
    )
  })

  test('topic names come from the options', async () => {
    const d = new TopologyDriver({ options: { topics: { approved: 'ok', errors: 'bad' } } })
    const outs = await d.pipe(toRecords([makeEvent({ t: T0 }), '{']))
    assert.deepEqual(
      outs.map(o => o.topic),
      ['ok', 'bad']
    )
  })
})

describe('error_logs', () => {
  test('each validation code lands in error_logs with the original, the source and the reasons', async () => {
    const d = new TopologyDriver()
    const bad = [
      { ...makeEvent({ t: T0 }), total_amount: 1 },
      makeEvent({ t: T0 + 3_600_000 }),
      makeEvent({ t: T0, payment_method: 'mobile', device_info: { os: 'Windows' } }),
      { ...makeEvent({ t: T0 }), merchant_category: 'casino' }
    ]
    const outs = await d.pipe(toRecords(bad, { offset: 10 }))
    assert.deepEqual(
      outs.map(o => o.topic),
      [ERRORS, ERRORS, ERRORS, ERRORS]
    )
    assert.deepEqual(
      outs.map(o => o.value.error_codes),
      [['ERR_AMOUNT'], ['ERR_TIME'], ['ERR_DEVICE'], ['ERR_SCHEMA']]
    )
    const first = outs[0]!
    assert.equal(first.key, bad[0]!.transaction_id)
    assert.deepEqual(first.value.original, bad[0])
    assert.equal(first.value.original_base64, null)
    assert.equal(first.value.transaction_id, bad[0]!.transaction_id)
    assert.deepEqual(first.value.source, { topic: 'darooghe.transactions', partition: 0, offset: 10 })
    assert.equal(first.value.ingestion_time, new Date(T0 + 60_000).toISOString())
    assert.equal(first.value.processed_at, new Date(d.clock.now()).toISOString())
    assert.equal(first.value.issues[0].field, 'total_amount')
  })

  test('undecodable bytes are kept as base64; a readable transaction id is still recovered', async () => {
    const d = new TopologyDriver()
    const bytes = "{'transaction_id':'t-1','amount':5"
    const outs = await d.pipe([...toRecords([bytes, null])])
    assert.equal(outs[0]!.key, 't-1')
    assert.deepEqual(outs[0]!.value.error_codes, ['ERR_SCHEMA'])
    assert.equal(outs[0]!.value.original, null)
    assert.equal(Buffer.from(outs[0]!.value.original_base64, 'base64').toString(), bytes)
    assert.equal(outs[1]!.key, null)
    assert.equal(outs[1]!.value.original_base64, null)
  })

  test('invalid events never touch state and never stop the batch', async () => {
    const d = new TopologyDriver()
    const outs = await d.pipe(toRecords(['\u0000\u00ff', '[]', makeEvent({ t: T0 }), '{"a":']))
    assert.deepEqual(
      outs.map(o => o.topic),
      [ERRORS, ERRORS, APPROVED, ERRORS]
    )
    // The one valid event is the journal's one entry; nothing else was recorded.
    const state = d.state()
    assert.deepEqual(
      // Each key is the partition's hash tag, then its kind.
      state.map(([k]) => /^\{[^}]+\}:(.)/.exec(k)?.[1]),
      ['b', 'j', 'p']
    )
    assert.equal(readFrames(Buffer.from(state[1]![1].replace(/^base64:/, ''), 'base64')).length, 1)
  })
})

describe('event time', () => {
  test('out-of-order events within the lateness are evaluated in event time', async () => {
    const d = new TopologyDriver({ options: { allowedLatenessMs: 600_000 } })
    const far = northOf(TEHRAN.lat, TEHRAN.lng, 300)
    // Far away at +10 min arrives first, then Tehran at +1 min, then Tehran at +3 min: the last
    // one's previous transaction in event time is +1 min in Tehran, so no impossible travel.
    const outs = await d.pipe(
      toRecords(
        [
          makeEvent({ t: T0 + 600_000, location: far }),
          makeEvent({ t: T0 + 60_000 }),
          makeEvent({ t: T0 + 180_000 })
        ],
        { timestamp: T0 + 601_000 }
      )
    )
    assert.deepEqual(
      outs.map(o => o.topic),
      [APPROVED, APPROVED, APPROVED]
    )
    assert.equal(outs[2]!.value.trace.impossible_travel.km, 0)
    assert.equal(outs[2]!.value.trace.velocity.count, 2)
    // An event at +12 min compares with +10 min (far away): no travel either; one from Tehran at +11 min does.
    const more = await d.pipe(
      toRecords([makeEvent({ t: T0 + 660_000 })], { offset: 3, timestamp: T0 + 661_000 })
    )
    assert.deepEqual(more[0]!.value.rules_fired, ['impossible_travel'])
  })

  test('a transaction id seen again (e.g. a producer retry at another offset) is not scored twice', async () => {
    const d = new TopologyDriver()
    const e = makeEvent({ t: T0 })
    const r = await d.run(toRecords([e, e]))
    assert.equal(r.outputs.length, 1)
    assert.equal(r.stats.duplicatesSkipped, 1)
    assert.equal(r.stats.duplicateTransactionIds, 1)
  })
})

describe('enrichment', () => {
  test('merchant fraud history raises the risk score of later events at that merchant', async () => {
    const d = new TopologyDriver()
    // Three customers each burst 6 times at merch_9: three fraud decisions there.
    const bursts = ['a', 'b', 'c'].flatMap(c =>
      Array.from({ length: 6 }, (_, i) =>
        makeEvent({ t: T0 + i * 1000, customer_id: c, merchant_id: 'merch_9' })
      )
    )
    await d.pipe(toRecords(bursts))
    const [clean, risky] = await d.pipe(
      toRecords(
        [
          makeEvent({ t: T0 + 10_000, customer_id: 'x', merchant_id: 'merch_1' }),
          makeEvent({ t: T0 + 10_000, customer_id: 'y', merchant_id: 'merch_9' })
        ],
        { offset: 18 }
      )
    )
    assert.equal(clean!.value.risk_score, 0)
    assert.ok(risky!.value.risk_score > 0)
  })

  test('seeded avg_spend profiles drive the redis-feature-store rule set', async () => {
    const d = new TopologyDriver({ rules: 'redis-feature-store' })
    assert.equal(
      await seedProfiles(d.store, [
        '{"customer_id":"cust_1","avg_spend":50000}',
        '',
        '{"customer_id":"cust_2","avg_spend":5000000}'
      ]),
      2
    )
    const outs = await d.pipe(
      toRecords([
        makeEvent({ t: T0, amount: 250_001 }),
        makeEvent({ t: T0, amount: 250_001, customer_id: 'cust_2' })
      ])
    )
    assert.deepEqual(
      outs.map(o => o.topic),
      [FRAUD, ALERTS, APPROVED]
    )
    assert.equal(outs[0]!.value.trace.amount_vs_avg_spend.source, 'profile')
    assert.equal(outs[0]!.value.trace.amount_vs_avg_spend.ratio, 5)
    await assert.rejects(
      seedProfiles(d.store, ['{"customer_id":"c","avg_spend":-1}'], { source: 'p.ndjson' }),
      /p\.ndjson:1: avg_spend must be a positive number/
    )
  })
})

test('one batch at a time: an overlapping call is rejected, the running one completes', async () => {
  const d = new TopologyDriver()
  const first = d.run(toRecords([makeEvent({ t: T0 })]))
  await assert.rejects(d.run(toRecords([makeEvent({ t: T0 })], { offset: 1 })), /another batch is running/)
  assert.equal((await first).outputs.length, 1)
})
