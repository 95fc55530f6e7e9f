/**
 * Late payments: every one is decided. Lateness is measured per customer (behind the customer's
 * own latest event time by more than the allowed lateness), flagged in the decision and its
 * alert, and the payment joins the customer's windows in event-time order.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PaymentEvent } from '../../src/domain/event.ts'
import { makeEvent, T0, toRecords } from './fixtures.ts'
import { on, parseOut, TopologyDriver, type Out } from './driver.ts'

const APPROVED = 'darooghe.transactions.approved'
const FRAUD = 'darooghe.transactions.fraud'
const ALERTS = 'darooghe.fraud_alerts'
const MINUTE = 60_000

/** Decisions only (no alerts), in input order. */
const decisions = (outs: readonly Out[]): Out[] => outs.filter(o => o.topic === APPROVED || o.topic === FRAUD)

/** The state-dependent part of a decision. */
const verdict = (o: Out): unknown => [o.topic, o.value.risk_score, o.value.rules_fired, o.value.trace]

const timeOf = (e: PaymentEvent): number => new Date(e.timestamp).getTime()

/** Payments of the customer whose event time is within [t − window, t] (the velocity rule's count). */
function countInWindow(events: readonly PaymentEvent[], e: PaymentEvent, windowMs: number): number {
  const t = timeOf(e)
  return events
    .filter(x => x.customer_id === e.customer_id)
    .map(x => timeOf(x))
    .filter(x => x >= t - windowMs && x <= t).length
}

describe('late payments', () => {
  test('behind its customer by more than the allowed lateness: decided and flagged; exactly at it: on time', async () => {
    const d = new TopologyDriver()
    const head = makeEvent({ t: T0 + 100_000 })
    const onMark = makeEvent({ t: T0 + 70_000 })
    const late = makeEvent({ t: T0 + 69_999 })
    const r = await d.run(toRecords([head, onMark, late], { timestamp: T0 + 101_000 }))
    const outs = r.outputs.map(parseOut)
    assert.deepEqual(
      outs.map(o => o.topic),
      [APPROVED, APPROVED, APPROVED]
    )
    assert.equal(r.stats.late, 1)
    for (const o of outs.slice(0, 2)) {
      assert.equal('late' in o.value, false)
      assert.equal('lateness_ms' in o.value, false)
    }
    assert.equal(outs[2]!.value.transaction_id, late.transaction_id)
    assert.equal(outs[2]!.value.late, true)
    assert.equal(outs[2]!.value.lateness_ms, 30_001)
    // The fields sit between the trace and the latency, in the bytes as written.
    assert.match(
      String(r.outputs[2]!.value),
      /,"trace":\{.*\}\},"late":true,"lateness_ms":30001,"processing_latency_ms":/
    )
    // In state: the next payment counts all four in its two-minute window.
    const next = await d.pipe(
      toRecords([makeEvent({ t: T0 + 100_500 })], { offset: 3, timestamp: T0 + 101_000 })
    )
    assert.equal(next[0]!.value.trace.velocity.count, 4)
    assert.equal('late' in next[0]!.value, false)
  })

  test("another customer's traffic does not make a payment late: lateness is the customer's own", async () => {
    const d = new TopologyDriver()
    const a = (t: number): PaymentEvent => makeEvent({ t, customer_id: 'cust_a' })
    const b = (t: number): PaymentEvent => makeEvent({ t, customer_id: 'cust_b' })
    // Same partition: B's payment 10 minutes ahead moves the partition's stream time, not A's.
    const events = [a(T0 + MINUTE), b(T0 + 11 * MINUTE), a(T0 + 40_000), a(T0 + 5_000), b(T0 + 10 * MINUTE)]
    const r = await d.run(toRecords(events, { timestamp: T0 + 12 * MINUTE }))
    const outs = r.outputs.map(parseOut)
    assert.deepEqual(
      outs.map(o => o.topic),
      [APPROVED, APPROVED, APPROVED, APPROVED, APPROVED]
    )
    assert.deepEqual(
      outs.map(o => o.value.lateness_ms ?? null),
      [null, null, null, 55_000, 60_000],
      'A at +40 s is 20 s behind A (on time), 10 min 20 s behind the partition; A at +5 s is 55 s behind A'
    )
    assert.deepEqual(
      outs.map(o => o.value.late ?? null),
      [null, null, null, true, true]
    )
    assert.equal(r.stats.late, 2)
  })

  for (const restart of [false, true]) {
    test(`40 minutes behind: decided late; later windows as if it had arrived in order${restart ? ' (state restored from the journal in between)' : ''}`, async () => {
      const T = T0 + 40 * MINUTE
      const timestamp = T + 2 * MINUTE
      const today = [makeEvent({ t: T }), makeEvent({ t: T + 20_000 }), makeEvent({ t: T + 40_000 })]
      // An offline terminal's buffer: two payments 40 minutes old, one 100 s old (within the window).
      const buffered = [makeEvent({ t: T0 }), makeEvent({ t: T0 + 30_000 }), makeEvent({ t: T - MINUTE })]
      const after = [makeEvent({ t: T + 50_000 }), makeEvent({ t: T + 55_000 })]
      const all = [...today, ...buffered, ...after]

      const d = new TopologyDriver()
      await d.run(toRecords(today, { timestamp }))
      const late = await d.run(toRecords(buffered, { offset: 3, timestamp }))
      if (restart) d.restart()
      const later = decisions((await d.run(toRecords(after, { offset: 6, timestamp }))).outputs.map(parseOut))

      // Every buffered payment is decided, flagged with its distance to the customer's latest (T + 40 s).
      const lateOuts = decisions(late.outputs.map(parseOut))
      assert.deepEqual(
        lateOuts.map(o => [o.value.transaction_id, o.value.late, o.value.lateness_ms]),
        buffered.map(e => [e.transaction_id, true, T + 40_000 - timeOf(e)])
      )
      assert.equal(late.stats.late, 3)
      // Older than the retention horizon (5 min 30 s with these rules): decided, not retained, so
      // the second payment of the old pair does not see the first in its window.
      assert.equal(lateOuts[1]!.value.trace.velocity.count, 1)

      // The payments after it count the one 100 s late in their windows: the sixth in two
      // minutes is fraud, as if it had arrived in order.
      const windowMs = 120_000
      assert.deepEqual(
        later.map(o => o.value.trace.velocity.count),
        after.map(e => countInWindow(all, e, windowMs))
      )
      assert.deepEqual(
        later.map(o => o.topic),
        [APPROVED, FRAUD]
      )
      assert.deepEqual(
        later.map(o => 'late' in o.value),
        [false, false]
      )
      // Everything of their decisions equals a run that got every payment in event-time order.
      const inOrder = [...all].sort((x, y) => timeOf(x) - timeOf(y))
      const ref = decisions(await new TopologyDriver().pipe(toRecords(inOrder, { timestamp })))
      const refOf = (e: PaymentEvent): Out => ref.find(o => o.value.transaction_id === e.transaction_id)!
      assert.deepEqual(
        later.map(verdict),
        after.map(e => verdict(refOf(e)))
      )
      // The late payments are in the all-time aggregates too: every other payment is before the last one.
      assert.equal(later[1]!.value.trace.amount_anomaly.history, all.length - 1)
    })
  }

  test("a late decision's alert carries the flag too", async () => {
    const d = new TopologyDriver()
    const history = [0, 10_000, 20_000].map(s => makeEvent({ t: T0 + 200_000 + s, customer_id: 'cust_x' }))
    const spike = makeEvent({ t: T0 + 100_000, customer_id: 'cust_x', amount: 2_000_000 })
    const outs = await d.pipe(toRecords([...history, spike], { timestamp: T0 + 221_000 }))
    const [fraud] = on(outs, FRAUD)
    const [alert] = on(outs, ALERTS)
    assert.deepEqual(fraud!.value.rules_fired, ['amount_anomaly'])
    assert.deepEqual([fraud!.value.late, fraud!.value.lateness_ms], [true, 120_000])
    assert.deepEqual([alert!.value.late, alert!.value.lateness_ms], [true, 120_000])
    assert.equal(alert!.value.transaction_id, spike.transaction_id)
  })
})
