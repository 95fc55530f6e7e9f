import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { MongoClient } from 'mongodb'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { MongoDocumentStore } from '../../src/adapters/mongo/index.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { decodeAlerts, Dispatcher, FileAlertSink } from '../../src/apps/dispatcher/index.ts'
import type { Rejection } from '../../src/apps/guard/record-guard.ts'
import { runStore, storeTopics } from '../../src/apps/store/index.ts'
import { runWindows, type WindowResult } from '../../src/apps/windows/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { Alert } from '../../src/ports/alert-sink.ts'
import { hostileValues, prototypeIsClean } from '../helpers/hostile.ts'
import { kcatProduce, type KcatRecord } from '../helpers/kcat.ts'
import { readTopics } from '../helpers/pipeline.ts'
import { createTopic, KAFKA_BROKERS, MONGO_URL, REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'

/**
 * The readers that did not write their input (dispatch, windows, store) on real Kafka, with
 * ordinary records interleaved with hostile ones produced by kcat: every ordinary record is
 * handled as it would be alone, every hostile one is rejected with its coordinates and reason,
 * the reader keeps running to the end of its topics, and Object.prototype stays clean.
 */

function alert(i: number): Alert {
  return {
    alert_id: `alert-tx-${i}`,
    created_at: new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString(),
    severity: 'high',
    customer_id: `cust_${i}`,
    transaction_id: `tx-${i}`,
    risk_score: 90,
    rules_fired: ['velocity'],
    trace: { velocity: { fired: true, count: 6, window_s: 120 } },
    decision: 'fraud'
  }
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z')

interface DecisionSpec {
  id: string
  atS: number
  amount: number
  merchant: string
  category: string
  fraud: boolean
}

function decision(d: DecisionSpec): Record<string, unknown> {
  return {
    transaction_id: d.id,
    timestamp: new Date(T0 + d.atS * 1000).toISOString(),
    customer_id: 'cust_1',
    merchant_id: d.merchant,
    merchant_category: d.category,
    payment_method: 'pos',
    amount: d.amount,
    status: 'approved',
    commission_type: 'flat',
    commission_amount: d.amount / 100,
    event_time: new Date(T0 + d.atS * 1000).toISOString(),
    decision: d.fraud ? 'fraud' : 'approved',
    risk_score: d.fraud ? 90 : 10,
    rules_fired: d.fraud ? ['velocity'] : [],
    trace: {},
    processing_latency_ms: 3,
    processed_at: new Date(T0 + d.atS * 1000 + 5).toISOString(),
    source: { topic: 'darooghe.transactions', partition: 0, offset: 0 }
  }
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))

/** Ordinary values with every hostile value after the i-th, in order, as kcat records. */
function interleave(ordinary: Buffer[], hostile: (Buffer | null)[]): KcatRecord[] {
  const out: KcatRecord[] = []
  const n = Math.max(ordinary.length, hostile.length)
  for (let i = 0; i < n; i++) {
    if (i < ordinary.length) out.push({ key: `o${i}`, value: ordinary[i]! })
    if (i < hostile.length) out.push({ key: `h${i}`, value: hostile[i]! })
  }
  return out
}

/** Offsets (one partition) of the records whose key starts with `h`. */
function hostileOffsets(records: readonly KcatRecord[]): number[] {
  return records.flatMap((r, offset) => (r.key.startsWith('h') ? [offset] : []))
}

async function committedToEnd(group: string, topics: string[]): Promise<boolean> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    for (const topic of topics) {
      const [ends, committed] = await Promise.all([
        admin.endOffsets(topic),
        admin.committedOffsets(group, topic)
      ])
      if (!ends.every((e, p) => e === 0 || committed[p] === e)) return false
    }
    return true
  } finally {
    await admin.close()
  }
}

async function untilCommitted(group: string, topics: string[], failed: () => unknown): Promise<void> {
  await waitFor(
    async () => {
      const f = failed()
      if (f) throw f
      return committedToEnd(group, topics)
    },
    { what: `group ${group} to commit the end of ${topics.join(', ')}`, timeoutMs: 90_000, intervalMs: 200 }
  )
}

/** The rejections by offset, as [offset, kind]. */
const byOffset = (rejections: readonly Rejection[]) => rejections.map(r => [r.offset, r.kind] as const)

/** Hostile classes of hostileValues() in their order, with the kind each reader must give. */
const ALERT_KINDS = [
  'max-depth',
  'max-event-bytes',
  'not_utf8',
  'no_value',
  'no_value',
  'forbidden_key',
  'forbidden_key',
  'not_object',
  'not_object',
  'not_json',
  'duplicate_key',
  'not_json',
  'not_json',
  'not_json'
]

test('dispatch: alerts interleaved with hostile records; each alert delivered once, each hostile one rejected', async t => {
  const topic = await createTopic(t, 'hostile-alerts', 1)
  const ordinary = Array.from({ length: 15 }, (_, i) => json(alert(i)))
  const hostile = hostileValues(alert(99) as Record<string, unknown>).map(h => h.value)
  const records = interleave(ordinary, hostile)
  await kcatProduce(topic, records)

  const dir = mkdtempSync(join(tmpdir(), 'darooghe-hostile-dispatch-'))
  const dedupe = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${uniqueName('hostile')}:` })
  t.after(async () => {
    await dedupe.clear()
    await dedupe.close()
  })
  const sink = new FileAlertSink(join(dir, 'alerts.log'))
  const dispatcher = new Dispatcher({ sinks: [sink], dedupe, log: silentLogger })
  const rejections: Rejection[] = []
  const group = uniqueName('g-hostile-dispatch')
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: group, topics: [topic] })
  let failure: unknown = null
  // As `darooghe dispatch` does it (src/cli/commands/dispatch.ts).
  const running = consumer
    .run({ onBatch: async recs => dispatcher.dispatchBatch(decodeAlerts(recs, r => rejections.push(r))) })
    .catch(e => (failure = e))
  await untilCommitted(group, [topic], () => failure)
  await consumer.close()
  await running
  await sink.close()
  assert.equal(failure, null)

  const delivered = readFileSync(join(dir, 'alerts.log'), 'utf8')
    .trimEnd()
    .split('\n')
    .map(l => JSON.parse(l) as Alert)
  assert.deepEqual(
    delivered,
    Array.from({ length: 15 }, (_, i) => alert(i)),
    'every ordinary alert, once, in order, unchanged'
  )
  const offsets = hostileOffsets(records)
  assert.deepEqual(
    byOffset(rejections),
    offsets.map((o, i) => [o, ALERT_KINDS[i]]),
    'each hostile record rejected at its offset, with its kind'
  )
  for (const r of rejections) assert.ok(r.topic === topic && r.partition === 0 && r.reason.length > 0)
  assert.equal(dispatcher.counts.bySink.file!.delivered, 15)
  assert.ok(prototypeIsClean())
})

/** The decision-topic kinds: larger limits (outputs), and a repeated key is last-wins there. */
const DECISION_KINDS = [
  'max-depth',
  'max-string-bytes',
  'not_utf8',
  'no_value',
  'no_value',
  'forbidden_key',
  'forbidden_key',
  'not_object',
  'not_object',
  'not_json',
  null, // the duplicate key: the last occurrence counts, as for the processor's own records
  'not_json',
  'not_json',
  'not_json'
]

test('windows: decisions interleaved with hostile records; the windows are those of the decisions alone', async t => {
  const [approved, fraud, analytics] = await Promise.all([
    createTopic(t, 'hostile-approved', 1),
    createTopic(t, 'hostile-fraud', 1),
    createTopic(t, 'hostile-analytics', 1)
  ])
  const categories = ['retail', 'food_service', 'entertainment']
  // Merchant ids named like Object's members are ordinary ids: they must count as any other.
  const merchants = ['m1', '__proto__', 'constructor', 'toString', 'm1']
  const specs: DecisionSpec[] = Array.from({ length: 12 }, (_, i) => ({
    id: `tx-${i}`,
    atS: 10 + i * 20,
    amount: 1_000 * (i + 1),
    merchant: merchants[i % merchants.length]!,
    category: categories[i % 3]!,
    fraud: i % 4 === 0
  }))
  // Built from a decision of its own, so the duplicate-key variant (last wins) is one more row.
  const template: DecisionSpec = {
    id: 'tx-h',
    atS: 250,
    amount: 500,
    merchant: 'm9',
    category: 'retail',
    fraud: false
  }
  const hostile = hostileValues(decision(template)).map(h => h.value)
  const shapeless = [
    json({ ...decision({ ...template, id: 'tx-far' }), event_time: '+275760-09-13T00:00:00.000Z' }),
    json({ ...decision({ ...template, id: 'tx-cat' }), merchant_category: 'crypto' }),
    json({ ...decision({ ...template, id: 'tx-amt' }), amount: '500' })
  ]
  // One hour later on both topics.
  const closer = (topicFraud: boolean) =>
    json(
      decision({
        id: `tx-close-${topicFraud}`,
        atS: 3_600,
        amount: 1,
        merchant: 'm1',
        category: 'retail',
        fraud: topicFraud
      })
    )
  const onApproved = interleave(
    specs.filter(s => !s.fraud).map(s => json(decision(s))),
    [...hostile, ...shapeless]
  )
  const onFraud = interleave(
    specs.filter(s => s.fraud).map(s => json(decision(s))),
    hostile.slice(0, 4)
  )
  await kcatProduce(approved, onApproved)
  await kcatProduce(fraud, onFraud)

  const state = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${uniqueName('hostile-win')}:` })
  t.after(async () => {
    await state.clear()
    await state.close()
  })
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  t.after(() => producer.close())
  const group = uniqueName('g-hostile-windows')
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: group, topics: [approved, fraud] })
  const rejections: Rejection[] = []
  let failure: unknown = null
  const running = runWindows({
    consumer,
    producer,
    store: state,
    log: silentLogger,
    topic: analytics,
    onReject: r => rejections.push(r)
  }).catch(e => (failure = e))
  await untilCommitted(group, [approved, fraud], () => failure)
  // Only once every record above is in: the watermark then passes every window of the test.
  await kcatProduce(approved, [{ key: 'close', value: closer(false) }])
  await kcatProduce(fraud, [{ key: 'close', value: closer(true) }])
  await untilCommitted(group, [approved, fraud], () => failure)
  const windowId = `tumbling_5m:${new Date(T0).toISOString()}`
  const [published] = await readTopics([analytics], recs =>
    recs.some(r => r.key?.toString() === windowId)
  ).then(recs => recs.filter(r => r.key?.toString() === windowId))
  await consumer.close()
  const totals = await running
  assert.equal(failure, null)

  // The rows of the window, as the ordinary decisions (and the duplicate-key one) give them.
  const rows = [...specs, template]
  const sum = (f: (s: DecisionSpec) => number) => rows.reduce((a, s) => a + f(s), 0)
  const countBy = (f: (s: DecisionSpec) => string) => {
    const m = new Map<string, number>()
    for (const s of rows) m.set(f(s), (m.get(f(s)) ?? 0) + 1)
    return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)))
  }
  const w = JSON.parse(published!.value!.toString()) as WindowResult
  assert.equal(w.transactions, rows.length)
  assert.equal(
    w.volume,
    sum(s => s.amount)
  )
  assert.equal(w.fraud, rows.filter(s => s.fraud).length)
  assert.equal(
    w.commission.flat,
    sum(s => s.amount / 100)
  )
  assert.deepEqual(
    w.by_category,
    countBy(s => s.category)
  )
  assert.deepEqual(w.by_status, { approved: rows.length })
  const merchantVolume = new Map<string, number>()
  for (const s of rows) merchantVolume.set(s.merchant, (merchantVolume.get(s.merchant) ?? 0) + s.amount)
  assert.deepEqual(
    Object.fromEntries(w.top_merchants.map(m => [m.merchant_id, m.volume])),
    Object.fromEntries([...merchantVolume].sort((a, b) => b[1] - a[1]).slice(0, 5)),
    'merchants named __proto__, constructor and toString total like any other'
  )

  const expected = [
    ...hostileOffsets(onApproved).map((o, i) => [
      approved,
      o,
      [...DECISION_KINDS, 'shape', 'shape', 'shape'][i]
    ]),
    ...hostileOffsets(onFraud).map((o, i) => [fraud, o, DECISION_KINDS[i]])
  ].filter(([, , kind]) => kind !== null)
  const actual = rejections.map(r => [r.topic, r.offset, r.kind])
  const order = (a: unknown[], b: unknown[]) => String(a).localeCompare(String(b))
  assert.deepEqual(actual.sort(order), expected.sort(order))
  assert.equal(totals.skipped, expected.length)
  assert.ok(prototypeIsClean())
})

test('store: alerts and decisions interleaved with hostile records; each stored, each hostile one in store_rejects', async t => {
  const names = await Promise.all(
    ['approved', 'fraud', 'alerts', 'errors', 'late', 'analytics'].map(r =>
      createTopic(t, `hostile-store-${r}`, 1)
    )
  )
  const [approved, fraud, alerts, errors, late, analytics] = names as [
    string,
    string,
    string,
    string,
    string,
    string
  ]
  const topics = storeTopics({ approved, fraud, alerts, errors, late, analytics })
  const alertRecords = interleave(
    Array.from({ length: 6 }, (_, i) => json(alert(i))),
    hostileValues(alert(99) as Record<string, unknown>).map(h => h.value)
  )
  const specs: DecisionSpec[] = Array.from({ length: 6 }, (_, i) => ({
    id: `tx-${i}`,
    atS: i,
    amount: 100 + i,
    merchant: 'm1',
    category: 'retail',
    fraud: false
  }))
  const template: DecisionSpec = {
    id: 'tx-h',
    atS: 9,
    amount: 9,
    merchant: 'm9',
    category: 'retail',
    fraud: false
  }
  const decisionRecords = interleave(
    specs.map(s => json(decision(s))),
    hostileValues(decision(template)).map(h => h.value)
  )
  await kcatProduce(alerts, alertRecords)
  await kcatProduce(approved, decisionRecords)
  // Header names MongoDB would refuse (or misread) as field names: the reject still goes in.
  const headerOffset = alertRecords.length
  await kcatProduce(alerts, [{ key: 'hdr', value: Buffer.from('not json') }], {
    headers: { $where: 'sleep(1)', 'a.b': 'c', plain: 'v' }
  })

  const dbName = uniqueName('test_hostile_store').replace(/-/g, '_')
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5_000 })
  await client.connect()
  t.after(async () => {
    await client.db(dbName).dropDatabase()
    await client.close()
  })
  const store = await MongoDocumentStore.connect({ url: MONGO_URL, database: dbName })
  t.after(() => store.close())
  const group = uniqueName('g-hostile-store')
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: group, topics: names })
  const abort = new AbortController()
  let failure: unknown = null
  const running = runStore({ consumer, store, topics, log: silentLogger, signal: abort.signal }).catch(
    e => (failure = e)
  )
  await untilCommitted(group, [alerts, approved], () => failure)
  abort.abort()
  const totals = await running
  assert.equal(failure, null)

  const db = client.db(dbName)
  const storedAlerts = await db.collection('alerts').find({}).sort({ _id: 1 }).toArray()
  assert.deepEqual(
    storedAlerts.map(a => a._id),
    Array.from({ length: 6 }, (_, i) => `alert-tx-${i}`)
  )
  assert.equal(storedAlerts[2]!.customer_id, 'cust_2')
  const tx = await db.collection('transactions').find({}).sort({ _id: 1 }).toArray()
  assert.deepEqual(
    tx.map(d => [d._id, d.amount]),
    [...specs, template].map(s => [s.id, s.amount]),
    'every decision stored; the duplicate-key one by its last occurrence'
  )
  const rejects = await db.collection('store_rejects').find({}).toArray()
  const expected = [
    [`${alerts}:0:${headerOffset}`, 'not_json'],
    ...hostileOffsets(alertRecords).map((o, i) => [`${alerts}:0:${o}`, ALERT_KINDS[i]]),
    ...hostileOffsets(decisionRecords).map((o, i) => [`${approved}:0:${o}`, DECISION_KINDS[i]])
  ].filter(([, kind]) => kind !== null)
  const order = (a: unknown[], b: unknown[]) => String(a).localeCompare(String(b))
  assert.deepEqual(rejects.map(r => [r._id, r.kind]).sort(order), expected.sort(order))
  for (const r of rejects) {
    assert.equal(typeof r.reason, 'string')
    assert.ok((r.reason as string).length > 0 && !(r.reason as string).includes('\n'))
  }
  const withHeaders = rejects.find(r => String(r._id) === `${alerts}:0:${headerOffset}`)!
  assert.deepEqual(withHeaders.headers, [
    { name: '$where', value: 'sleep(1)' },
    { name: 'a.b', value: 'c' },
    { name: 'plain', value: 'v' }
  ])
  // The bytes are kept: the 5,000-deep record comes back byte for byte.
  const deep = rejects.find(r => r.kind === 'max-depth' && r.topic === alerts)!
  assert.equal(
    Buffer.from(deep.value_base64 as string, 'base64').toString(),
    hostileValues({ a: 1 })[0]!.value!.toString()
  )
  assert.equal(totals.rejects, expected.length)
  assert.ok(prototypeIsClean())
})
