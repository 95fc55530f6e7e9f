import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WindowAggregator, type WindowRow } from '../../src/apps/windows/index.ts'

const T0 = Date.parse('2026-11-22T10:00:00.000Z')

function row(offsetMs: number, o: Partial<WindowRow> = {}): WindowRow {
  return {
    eventTimeMs: T0 + offsetMs,
    amount: 100_000,
    commissionType: 'flat',
    commissionAmount: 2_000,
    merchantId: 'm1',
    status: 'approved',
    category: 'retail',
    method: 'pos',
    fraud: false,
    ...o
  }
}

test('a 1-minute window sliding by 20 s holds an event in three windows; 5-minute tumbling in one', () => {
  const agg = new WindowAggregator({ allowedLatenessMs: 0 })
  agg.add(row(30_000)) // 10:00:30
  // Moving the watermark to 10:06 closes every window that held it.
  agg.add(row(360_000, { merchantId: 'late-mover' }))
  const closed = agg.close()
  const held = closed.filter(w => w.transactions > 0 && w.top_merchants[0]?.merchant_id === 'm1')
  assert.deepEqual(
    held.map(w => w.window_id),
    [
      'sliding_1m:2026-11-22T09:59:40.000Z',
      'sliding_1m:2026-11-22T10:00:00.000Z',
      'sliding_1m:2026-11-22T10:00:20.000Z',
      'tumbling_5m:2026-11-22T10:00:00.000Z'
    ]
  )
})

test('totals, commission by type, fraud rate and counts of one window are exact', () => {
  const agg = new WindowAggregator({ allowedLatenessMs: 0 })
  agg.add(row(1_000, { amount: 100_000, commissionType: 'flat', commissionAmount: 2_000, merchantId: 'm1' }))
  agg.add(
    row(2_000, {
      amount: 50_000_000,
      commissionType: 'progressive',
      commissionAmount: 750_000,
      merchantId: 'm2',
      fraud: true,
      status: 'declined',
      method: 'online'
    })
  )
  agg.add(
    row(3_000, { amount: 300_000, commissionType: 'tiered', commissionAmount: 3_000, merchantId: 'm1' })
  )
  agg.add(row(301_000)) // closes the first tumbling window
  const w = agg.close().find(x => x.window_id === 'tumbling_5m:2026-11-22T10:00:00.000Z')
  assert.ok(w)
  assert.equal(w.transactions, 3)
  assert.equal(w.volume, 50_400_000)
  assert.equal(w.fraud, 1)
  assert.equal(w.fraud_rate, 1 / 3)
  assert.deepEqual(w.commission, { flat: 2_000, progressive: 750_000, tiered: 3_000, total: 755_000 })
  assert.deepEqual(w.top_merchants, [
    { merchant_id: 'm2', commission: 750_000, transactions: 1, volume: 50_000_000 },
    { merchant_id: 'm1', commission: 5_000, transactions: 2, volume: 400_000 }
  ])
  assert.deepEqual(w.by_status, { approved: 2, declined: 1 })
  assert.deepEqual(w.by_category, { retail: 3 })
  assert.deepEqual(w.by_payment_method, { online: 1, pos: 2 })
  assert.equal(w.window_end, '2026-11-22T10:05:00.000Z')
})

test('top merchants: five by commission, ties broken by merchant id', () => {
  const agg = new WindowAggregator({ allowedLatenessMs: 0 })
  for (const [id, c] of [
    ['m7', 10],
    ['m3', 50],
    ['m5', 50],
    ['m1', 40],
    ['m2', 30],
    ['m9', 20],
    ['m4', 5]
  ] as const)
    agg.add(row(1_000, { merchantId: id, commissionAmount: c }))
  agg.add(row(300_000))
  const w = agg.close().find(x => x.kind === 'tumbling_5m')
  assert.deepEqual(
    w?.top_merchants.map(m => m.merchant_id),
    ['m3', 'm5', 'm1', 'm2', 'm9']
  )
})

test('a window closes when the watermark reaches its end, not before; lateness delays it', () => {
  const agg = new WindowAggregator({ allowedLatenessMs: 10_000 })
  agg.add(row(1_000))
  agg.add(row(309_999)) // watermark 10:04:59.999: the tumbling window [10:00, 10:05) stays open
  assert.equal(
    agg.close().some(w => w.kind === 'tumbling_5m'),
    false
  )
  agg.add(row(310_000)) // watermark exactly 10:05:00
  assert.deepEqual(
    agg
      .close()
      .filter(w => w.kind === 'tumbling_5m')
      .map(w => [w.window_start, w.transactions]),
    [['2026-11-22T10:00:00.000Z', 1]]
  )
})

test('out-of-order events within the lateness count; events for closed windows are late', () => {
  const agg = new WindowAggregator({
    allowedLatenessMs: 10_000,
    windows: [{ kind: 't1m', sizeMs: 60_000, advanceMs: 60_000 }]
  })
  agg.add(row(65_000)) // stream time 10:01:05, watermark 10:00:55
  assert.equal(agg.add(row(56_000)), true) // out of order, window [10:00, 10:01) still open
  assert.equal(agg.add(row(54_999)), true) // before the watermark but its window has not closed
  agg.add(row(70_000)) // watermark 10:01:00: [10:00, 10:01) closes
  const [first] = agg.close()
  assert.equal(first?.transactions, 2)
  assert.equal(agg.add(row(59_000)), false)
  assert.equal(agg.late, 1)
})

test('snapshot and restore continue exactly where the state was taken', () => {
  const rows = Array.from({ length: 400 }, (_, i) =>
    row(i * 1_700, { merchantId: `m${i % 7}`, commissionAmount: i, amount: 1_000 + i, fraud: i % 11 === 0 })
  )
  const whole = new WindowAggregator()
  const a = [...rows.map(r => (whole.add(r), whole.close())).flat()]
  const first = new WindowAggregator()
  const b = rows.slice(0, 150).flatMap(r => (first.add(r), first.close()))
  const second = new WindowAggregator()
  second.restore(JSON.parse(JSON.stringify(first.snapshot())))
  b.push(...rows.slice(150).flatMap(r => (second.add(r), second.close())))
  assert.ok(a.length > 20)
  assert.deepEqual(b, a)
})

test('the slowest partition holds the watermark; an idle one stops holding it after idleMs', () => {
  const windows = [{ kind: 't1m', sizeMs: 60_000, advanceMs: 60_000 }]
  const agg = new WindowAggregator({ allowedLatenessMs: 0, idleMs: 2_000, windows })
  agg.assign(['approved:0', 'fraud:0'], 0)
  // Catching up: the sparse fraud partition runs ten minutes ahead of the approved one.
  agg.add(row(600_000, { fraud: true }), 'fraud:0', 100)
  agg.add(row(10_000), 'approved:0', 100)
  assert.deepEqual(agg.close(100), [])
  assert.equal(agg.add(row(20_000), 'approved:0', 200), true, 'the slow partition is not late')
  agg.add(row(61_000), 'approved:0', 300)
  assert.deepEqual(
    agg.close(300).map(w => [w.window_start, w.transactions]),
    [['2026-11-22T10:00:00.000Z', 2]]
  )
  // The approved partition goes quiet; two seconds later only the fraud one counts.
  agg.add(row(601_000, { fraud: true }), 'fraud:0', 2_400)
  assert.deepEqual(
    agg.close(2_400).map(w => w.window_start),
    ['2026-11-22T10:01:00.000Z']
  )
  assert.equal(agg.watermarkMs, T0 + 601_000)
  // Back from its pause with an old event: the window it belongs to has been published.
  assert.equal(agg.add(row(70_000), 'approved:0', 2_500), false)
  assert.equal(agg.late, 1)
})
