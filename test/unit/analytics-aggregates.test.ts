import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Analysis, type AnalyticsResults } from '../../src/apps/analytics/analysis.ts'
import { MerchantAccumulator } from '../../src/apps/analytics/merchants.ts'
import { toRow, type Row } from '../../src/apps/analytics/row.ts'
import { quintileScores, segmentOf } from '../../src/apps/analytics/segments.ts'
import { FIXTURE } from '../helpers/analytics-fixture.ts'

// Every expected number below is worked out by hand from FIXTURE (see the comments).
function rows(): Row[] {
  return FIXTURE.map(e => {
    const r = toRow(e)
    assert.equal(typeof r, 'object', `fixture ${e.transaction_id} must be valid`)
    return r as Row
  })
}

function analyse(): AnalyticsResults {
  const all = rows()
  const a = new Analysis()
  // Two batches: results must not depend on how the rows were cut.
  a.addBatch(all.slice(0, 3))
  a.addBatch(all.slice(3))
  assert.equal(a.rows, 7)
  return a.results()
}

const close = (actual: number, expected: number): void =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`)

test('summary: totals, average and counts by status, category and payment method', () => {
  const s = analyse().summary
  assert.equal(s.transactions, 7)
  assert.equal(s.total_value, 1_260_000) // 100k+200k+50k+150k+300k+400k+60k
  assert.equal(s.average_amount, 180_000)
  assert.equal(s.total_commission, 21_600)
  assert.equal(s.first_event, '2026-01-05T09:10:00.000Z')
  assert.equal(s.last_event, '2026-01-11T23:30:00.000Z')
  assert.deepEqual(s.by_status, { approved: 6, declined: 1 })
  assert.deepEqual(s.by_category, {
    retail: 4,
    food_service: 2,
    entertainment: 0,
    transportation: 1,
    government: 0
  })
  assert.deepEqual(s.by_payment_method, { online: 1, pos: 4, mobile: 1, nfc: 1 })
})

test('fraud rate overall and per day from the decisions', () => {
  const f = analyse().fraud
  assert.ok(f)
  assert.equal(f.decided, 7)
  assert.equal(f.fraud, 2)
  close(f.rate, 2 / 7)
  assert.deepEqual(f.daily, [
    { day: '2026-01-05', decided: 2, fraud: 1, rate: 0.5 },
    { day: '2026-01-06', decided: 1, fraud: 0, rate: 0 },
    { day: '2026-01-07', decided: 2, fraud: 0, rate: 0 },
    { day: '2026-01-11', decided: 2, fraud: 1, rate: 0.5 }
  ])
})

test('no fraud report when no row carries a decision', () => {
  const a = new Analysis()
  a.addBatch(FIXTURE.map(({ decision: _d, ...e }) => toRow(e) as Row))
  assert.equal(a.results().fraud, null)
})

test('commission efficiency by category × type, and the best structure per category', () => {
  const c = analyse().commission
  assert.equal(c.total_commission, 21_600)
  assert.equal(c.cells.length, 15)
  const cell = (category: string, type: string) =>
    c.cells.find(x => x.category === category && x.commission_type === type)!
  // retail flat: a1, a5, a6 → 2000+6000+4000 over 100k+300k+400k
  const rf = cell('retail', 'flat')
  assert.equal(rf.count, 3)
  assert.equal(rf.total_commission, 12_000)
  assert.equal(rf.total_amount, 800_000)
  assert.equal(rf.mean_commission, 4_000)
  close(rf.commission_ratio, 0.015)
  close(rf.revenue_share, 12_000 / 21_600)
  const rp = cell('retail', 'progressive')
  assert.deepEqual(
    [rp.count, rp.total_commission, rp.total_amount, rp.mean_commission],
    [1, 5_000, 200_000, 5_000]
  )
  close(rp.commission_ratio, 0.025)
  close(rp.revenue_share, 5_000 / 21_600)
  assert.deepEqual([cell('retail', 'tiered').count, cell('retail', 'tiered').mean_commission], [0, 0])
  close(cell('food_service', 'flat').commission_ratio, 0.02)
  close(cell('food_service', 'tiered').commission_ratio, 0.02)
  close(cell('food_service', 'tiered').revenue_share, 3_000 / 21_600)
  close(cell('transportation', 'flat').commission_ratio, 0.01)
  const best = Object.fromEntries(c.best.map(b => [b.category, [b.by_total, b.by_ratio]]))
  assert.deepEqual(best, {
    retail: ['flat', 'progressive'],
    // equal ratios (0.02): the first type in schema order wins
    food_service: ['tiered', 'flat'],
    entertainment: [null, null],
    transportation: ['flat', 'flat'],
    government: [null, null]
  })
})

test('temporal patterns: by hour, by weekday, the matrix, peaks and the daily series', () => {
  const t = analyse().temporal
  const hours = t.by_hour.flatMap((b, h) => (b.count > 0 ? [[h, b.count, b.amount]] : []))
  assert.deepEqual(hours, [
    [9, 3, 450_000], // a1, a2, a4
    [14, 2, 110_000], // a3, a7
    [20, 1, 300_000],
    [23, 1, 400_000]
  ])
  assert.deepEqual(
    t.by_weekday.map(b => [b.count, b.amount]),
    [
      [2, 300_000], // Mon 5th
      [1, 50_000], // Tue 6th
      [2, 450_000], // Wed 7th
      [0, 0],
      [0, 0],
      [0, 0],
      [2, 460_000] // Sun 11th
    ]
  )
  const cells = t.hour_weekday.flatMap((hours, w) => hours.flatMap((n, h) => (n > 0 ? [[w, h, n]] : [])))
  assert.deepEqual(cells, [
    [0, 9, 2],
    [1, 14, 1],
    [2, 9, 1],
    [2, 20, 1],
    [6, 14, 1],
    [6, 23, 1]
  ])
  assert.deepEqual(t.peak_hours, [
    { hour: 9, count: 3 },
    { hour: 14, count: 2 },
    { hour: 20, count: 1 } // ties with 23: the earlier hour
  ])
  assert.deepEqual(t.daily, [
    { day: '2026-01-05', count: 2, amount: 300_000 },
    { day: '2026-01-06', count: 1, amount: 50_000 },
    { day: '2026-01-07', count: 2, amount: 450_000 },
    { day: '2026-01-08', count: 0, amount: 0 },
    { day: '2026-01-09', count: 0, amount: 0 },
    { day: '2026-01-10', count: 0, amount: 0 },
    { day: '2026-01-11', count: 2, amount: 460_000 }
  ])
})

test('quintile scores: 1 + floor(5 × values below / n), ties share a score', () => {
  assert.deepEqual(
    [...quintileScores(Float64Array.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]))],
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
  )
  assert.deepEqual([...quintileScores(Float64Array.from([5, 5, 5]))], [1, 1, 1])
  assert.deepEqual([...quintileScores(Float64Array.from([3, 1, 2, 1]))], [4, 1, 3, 1])
})

test('segment rules', () => {
  assert.equal(segmentOf({ r: 5, f: 5, m: 4 }), 'champions')
  assert.equal(segmentOf({ r: 4, f: 5, m: 3 }), 'loyal')
  assert.equal(segmentOf({ r: 3, f: 4, m: 5 }), 'loyal')
  assert.equal(segmentOf({ r: 5, f: 2, m: 5 }), 'new')
  assert.equal(segmentOf({ r: 2, f: 5, m: 5 }), 'at_risk')
  assert.equal(segmentOf({ r: 1, f: 1, m: 1 }), 'hibernating')
  assert.equal(segmentOf({ r: 3, f: 3, m: 3 }), 'promising')
  assert.equal(segmentOf({ r: 5, f: 3, m: 1 }), 'promising')
})

test('RFM segments: sizes and profiles', () => {
  const s = analyse().segments
  assert.equal(s.reference_time, '2026-01-11T23:30:00.000Z')
  assert.equal(s.customers, 4)
  // recency (days to 01-11 23:30): cust_1 550 min, cust_2 6625 min, cust_3 5970 min, cust_4 0
  // R = 5,4,3,2 … from the most recent: cust_4 5, cust_1 4, cust_3 3, cust_2 2
  // F (3,2,1,1): cust_1 4, cust_2 3, cust_3 1, cust_4 1; M (360k,200k,300k,400k): 3, 1, 2, 4
  // → cust_1 loyal, cust_2 at_risk, cust_3 promising, cust_4 new
  const by = Object.fromEntries(s.segments.map(p => [p.segment, p]))
  assert.deepEqual(
    s.segments.map(p => [p.segment, p.customers]),
    [
      ['champions', 0],
      ['loyal', 1],
      ['new', 1],
      ['at_risk', 1],
      ['hibernating', 0],
      ['promising', 1]
    ]
  )
  assert.deepEqual([by.loyal!.mean_count, by.loyal!.mean_spend, by.loyal!.share], [3, 360_000, 0.25])
  close(by.loyal!.mean_recency_days, 550 / 1440)
  assert.deepEqual(
    [by.at_risk!.mean_count, by.at_risk!.mean_spend, by.at_risk!.total_spend],
    [2, 200_000, 200_000]
  )
  close(by.at_risk!.mean_recency_days, 6625 / 1440)
  close(by.promising!.mean_recency_days, 5970 / 1440)
  assert.deepEqual([by.new!.mean_count, by.new!.mean_spend, by.new!.mean_recency_days], [1, 400_000, 0])
  assert.deepEqual([by.champions!.mean_count, by.champions!.share], [0, 0])
})

test('top merchants by count and by commission, ties by merchant id', () => {
  const m = analyse().merchants
  assert.equal(m.merchants, 3)
  assert.deepEqual(m.top_by_count, [
    { merchant_id: 'merch_1', category: 'retail', count: 3, amount: 700_000, commission: 11_000 },
    { merchant_id: 'merch_2', category: 'food_service', count: 2, amount: 200_000, commission: 4_000 },
    { merchant_id: 'merch_3', category: 'retail', count: 2, amount: 360_000, commission: 6_600 }
  ])
  assert.deepEqual(
    m.top_by_commission.map(x => [x.merchant_id, x.commission]),
    [
      ['merch_1', 11_000],
      ['merch_3', 6_600],
      ['merch_2', 4_000]
    ]
  )
  const two = new MerchantAccumulator(2)
  for (const r of rows()) two.add(r)
  assert.deepEqual(
    two.result().top_by_count.map(x => x.merchant_id),
    ['merch_1', 'merch_2']
  )
})

test('transactions per user: histogram, mean, median, p90, max and engagement', () => {
  const u = analyse().users
  // counts per customer: 3, 2, 1, 1
  assert.equal(u.users, 4)
  assert.equal(u.mean, 1.75)
  assert.equal(u.median, 1.5)
  assert.equal(u.p90, 3)
  assert.equal(u.max, 3)
  assert.deepEqual(
    u.histogram.map(b => [b.label, b.users]),
    [
      ['1', 2],
      ['2', 1],
      ['3–5', 1],
      ['6–10', 0],
      ['11–20', 0],
      ['21–50', 0],
      ['>50', 0]
    ]
  )
  assert.deepEqual(
    u.engagement.map(e => [e.tier, e.users, e.share]),
    [
      ['one_off', 2, 0.5],
      ['occasional', 2, 0.5],
      ['regular', 0, 0],
      ['heavy', 0, 0]
    ]
  )
})

test('an empty data set gives zeros, not NaN', () => {
  const r = new Analysis().results()
  assert.equal(r.summary.average_amount, 0)
  assert.equal(r.users.mean, 0)
  assert.equal(r.segments.reference_time, null)
  assert.deepEqual(r.temporal.daily, [])
  assert.equal(r.fraud, null)
  assert.ok(!JSON.stringify(r).includes('null,null') && !JSON.stringify(r).includes('NaN'))
})
