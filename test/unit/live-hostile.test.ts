import assert from 'node:assert/strict'
import { test } from 'node:test'
import { browsed, LiveView } from '../../src/apps/live/index.ts'
import type { Rejection } from '../../src/apps/guard/record-guard.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { hostileValues, prototypeIsClean } from '../helpers/hostile.ts'

/** The dashboard's readers (live view, topic browser) on hostile records among ordinary ones. */

const T0 = Date.parse('2026-01-01T10:00:00Z')
const TOPICS = {
  approved: 'darooghe.transactions.approved',
  alerts: 'darooghe.fraud_alerts',
  analytics: 'darooghe.analytics'
}

function rec(topic: string, offset: number, value: Buffer | null, timestamp = T0): LogRecord {
  return { topic, partition: 0, offset, key: null, value, headers: {}, timestamp }
}

const decision = (i: number) => ({
  transaction_id: `tx-${i}`,
  event_time: new Date(T0 - 100).toISOString(),
  decision: i % 2 ? 'fraud' : 'approved',
  processing_latency_ms: 2
})
const alert = (i: number) => ({ alert_id: `alert-tx-${i}`, rules_fired: ['velocity'], trace: {} })
const window = (i: number) => ({
  window_id: `tumbling_5m:2026-01-01T10:0${i}:00.000Z`,
  kind: 'tumbling_5m',
  window_start: `2026-01-01T10:0${i}:00.000Z`,
  window_end: `2026-01-01T10:0${i + 5}:00.000Z`
})

test('live view: hostile records are skipped with their offsets and reasons; the ordinary ones count as alone', () => {
  const rejected: Rejection[] = []
  const view = new LiveView({ now: () => T0, onReject: r => rejected.push(r) })
  const alone = new LiveView({ now: () => T0 })
  let offset = 0
  let hostileRecords = 0
  for (const [topic, make] of [
    [TOPICS.approved, decision],
    [TOPICS.alerts, alert],
    [TOPICS.analytics, window]
  ] as const) {
    const ordinary = [0, 1, 2].map(i => rec(topic, offset++, Buffer.from(JSON.stringify(make(i)))))
    const hostile = hostileValues(make(8) as Record<string, unknown>).map(h => rec(topic, offset++, h.value))
    // A window of a kind the dashboard never shows would be a map of its own: refused.
    if (topic === TOPICS.analytics)
      hostile.push(rec(topic, offset++, Buffer.from(JSON.stringify({ ...window(8), kind: 'x' }))))
    hostileRecords += hostile.length
    view.ingest([ordinary[0]!, ...hostile.slice(0, 5), ordinary[1]!, ...hostile.slice(5), ordinary[2]!])
    alone.ingest(ordinary)
  }
  // Every hostile record is skipped but one: the decision with a repeated key, whose last
  // occurrence counts (a decision is the event's text plus the decision fields).
  assert.equal(hostileRecords, 43)
  assert.equal(rejected.length, 42)
  assert.equal(view.totals.skipped, 42)
  assert.deepEqual({ ...view.totals, skipped: 0 }, { ...alone.totals, events: 4, approved: 3 })
  for (const r of rejected) assert.ok(r.reason.length > 0 && !r.reason.includes('\n'), r.reason)
  assert.deepEqual(
    view.alerts(10).map(a => a.alert_id),
    ['alert-tx-2', 'alert-tx-1', 'alert-tx-0']
  )
  assert.equal(view.analytics().tumbling_5m.length, 3)
  assert.ok(prototypeIsClean())
})

test('topic browser: any record is shown, bounded, whatever its value, key or timestamp', () => {
  for (const h of hostileValues({ a: 1 })) {
    const m = browsed(rec('darooghe.transactions', 7, h.value))
    assert.equal(m.offset, 7)
    const shown = typeof m.value === 'string' ? m.value : JSON.stringify(m.value)
    assert.ok(shown.length < 5_000, h.name)
  }
  const deep = browsed(rec('t', 0, hostileValues({ a: 1 })[0]!.value))
  assert.match(deep.value as string, /^\{"a":\{"a":.*… \(30001 bytes\)$/)
  const far = browsed({
    ...rec('t', 0, Buffer.from('{}')),
    timestamp: 8.64e15 + 1,
    key: Buffer.alloc(10_000, 0x6b)
  })
  assert.equal(far.timestamp, '8640000000000001')
  assert.ok(far.key!.length < 4_200)
  assert.ok(prototypeIsClean())
})
