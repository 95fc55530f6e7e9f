import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryLog } from '../../src/adapters/memory/index.ts'
import { CounterSeries, LatencySeries, LiveView, MemoryTopicBrowser } from '../../src/apps/live/index.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { waitFor } from '../helpers/services.ts'

let offset = 0
function rec(topic: string, value: unknown): LogRecord {
  return {
    topic,
    partition: 0,
    offset: offset++,
    key: null,
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    timestamp: 0
  }
}

const T0 = Date.parse('2026-01-01T10:00:00Z')
const decision = (decisionName: string, eventMs: number, latency = 3) => ({
  transaction_id: `tx${offset}`,
  event_time: new Date(eventMs).toISOString(),
  decision: decisionName,
  processing_latency_ms: latency
})

test('counts decisions per second, fraud rate and end-to-end latency from the read time', () => {
  let now = T0
  const view = new LiveView({ now: () => now })
  for (let s = 0; s < 10; s++) {
    now = T0 + s * 1000
    // 4 events per second, one fraud, read 200 ms after their event time
    view.ingest([
      rec('darooghe.transactions.approved', decision('approved', now - 200)),
      rec('darooghe.transactions.approved', decision('approved', now - 200)),
      rec('darooghe.transactions.approved', decision('approved', now - 200)),
      rec('darooghe.transactions.fraud', decision('fraud', now - 200, 40))
    ])
  }
  now = T0 + 10_000
  const o = view.overview()
  assert.deepEqual(o.totals, { events: 40, approved: 30, fraud: 10, alerts: 0, windows: 0, skipped: 0 })
  assert.equal(o.rates.events_per_s, 4)
  assert.equal(o.rates.fraud_per_s, 1)
  assert.equal(o.fraud_rate_60s, 0.25)
  const e2e = o.latency_60s.end_to_end
  assert.equal(e2e.count, 40)
  assert.ok(e2e.p50 >= 199 && e2e.p50 <= 201, String(e2e.p50))
  assert.ok(o.latency_60s.processing.max >= 39 && o.latency_60s.processing.max <= 41)
  assert.equal(o.series.throughput.length, 600)
  assert.deepEqual(
    o.series.throughput.slice(-11, -1).map(p => p.events),
    Array(10).fill(4)
  )
  assert.equal(o.series.throughput.at(-1)!.t, now)
  assert.equal(o.idle_s, 1)
  // Fraud rate per 10 s slot aligned to the clock: T0 is on a slot boundary.
  const slot = o.series.fraud_rate.find(p => p.t === T0)
  assert.deepEqual(slot, { t: T0, rate: 0.25 })
  assert.ok(o.series.fraud_rate.every(p => p.t % 10_000 === 0))
})

test('alerts are kept newest first, once per id, and announced', () => {
  const view = new LiveView({ maxAlerts: 2 })
  const seen: string[] = []
  view.onAlert(a => seen.push(a.alert_id))
  const alert = (id: string) =>
    rec('darooghe.fraud_alerts', { alert_id: id, rules_fired: ['velocity'], trace: {} })
  view.ingest([alert('a1'), alert('a2'), alert('a1'), alert('a3')])
  assert.deepEqual(seen, ['a1', 'a2', 'a3'])
  assert.deepEqual(
    view.alerts(10).map(a => a.alert_id),
    ['a3', 'a2']
  )
  assert.equal(view.alert('a1'), undefined)
  assert.equal(view.totals.alerts, 3)
})

test('windows are kept per kind in start order, a re-emission replacing the earlier one', () => {
  const view = new LiveView({ maxWindows: 2 })
  const w = (kind: string, start: string, transactions: number) =>
    rec('darooghe.analytics', {
      window_id: `${kind}:${start}`,
      kind,
      window_start: start,
      window_end: start,
      transactions
    })
  view.ingest([
    w('sliding_1m', '2026-01-01T10:00:40Z', 1),
    w('sliding_1m', '2026-01-01T10:00:00Z', 2),
    w('sliding_1m', '2026-01-01T10:00:20Z', 3),
    w('sliding_1m', '2026-01-01T10:00:20Z', 4),
    w('tumbling_5m', '2026-01-01T10:00:00Z', 5)
  ])
  const a = view.analytics()
  assert.deepEqual(
    a.sliding_1m.map(x => x.transactions),
    [4, 1]
  )
  assert.equal(a.tumbling_5m.length, 1)
})

test('records that are not JSON or lack the fields are skipped, not thrown', () => {
  const view = new LiveView()
  view.ingest([
    rec('darooghe.transactions.approved', 'not json'),
    rec('darooghe.transactions.approved', { decision: 'approved' }),
    rec('darooghe.fraud_alerts', [1, 2]),
    rec('darooghe.analytics', { kind: 'sliding_1m' })
  ])
  assert.equal(view.totals.skipped, 4)
  assert.equal(view.totals.events, 0)
})

test('series rings forget seconds that came round again', () => {
  const c = new CounterSeries(5)
  c.add(1_000, 'events', 3)
  c.add(6_000, 'events', 1)
  assert.deepEqual(
    c.points(6_000).map(p => p.events),
    [0, 0, 0, 0, 1]
  )
  const l = new LatencySeries(1000, 3)
  l.record(0, 10)
  l.record(3_000, 20)
  assert.equal(l.over(3_000, 10_000).count, 1)
  assert.deepEqual(
    l.points(3_000).map(p => p.count),
    [0, 0, 1]
  )
})

test('the memory topic browser reports end offsets, group lag and the newest messages', async () => {
  const log = new MemoryLog({ defaultPartitions: 2 })
  log.createTopic('t', 2)
  log.append(
    Array.from({ length: 6 }, (_, i) => ({
      topic: 't',
      partition: i % 2,
      key: `k${i}`,
      value: JSON.stringify({ i }),
      timestamp: T0 + i
    }))
  )
  const consumer = log.consumer({ groupId: 'g1', topics: ['t'] })
  const running = consumer.run({ onBatch: async () => {} })
  await waitFor(() => log.committedOffsets('g1', 't').join() === '3,3', { what: 'g1 to commit everything' })
  await consumer.close()
  await running
  // Two more records the group has not read: its lag.
  log.append([0, 1].map(p => ({ topic: 't', partition: p, value: 'plain text', timestamp: T0 + 10 + p })))
  const browser = new MemoryTopicBrowser(log, () => ['g1', 'never'])
  const [t] = await browser.topics()
  assert.equal(t!.name, 't')
  assert.deepEqual(t!.end_offsets, [4, 4])
  assert.equal(t!.messages, 8)
  assert.equal(t!.groups.length, 1)
  assert.equal(t!.groups[0]!.group, 'g1')
  assert.deepEqual(t!.groups[0]!.lag, [1, 1])
  const messages = await browser.messages('t', 3)
  assert.deepEqual(
    messages!.map(m => m.value),
    ['plain text', 'plain text', { i: 5 }]
  )
  assert.equal(messages![2]!.key, 'k5')
  assert.equal(messages![2]!.timestamp, new Date(T0 + 5).toISOString())
  assert.equal(await browser.messages('missing', 3), undefined)
})
