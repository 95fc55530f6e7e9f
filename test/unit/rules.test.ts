import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { northOf } from '../../src/domain/geo.ts'
import {
  applyTransaction,
  CustomerState,
  insertionIndex,
  RecentTxn,
  transactionKey
} from '../../src/domain/rules/customer-state.ts'
import { RuleEngine, type Evaluation } from '../../src/domain/rules/engine.ts'
import { parseRuleSet } from '../../src/domain/rules/rule-set.ts'
import { TEHRAN, T0 } from '../topology/fixtures.ts'

const LIMITS = { retentionMs: 3_600_000 + 30_000, maxRecent: 64, maxLocations: 20, maxMerchants: 20 }

interface Tx {
  t: number
  amount?: number
  lat?: number
  lng?: number
}

function engineOf(type: string, params: Record<string, unknown> = {}): RuleEngine {
  return new RuleEngine(parseRuleSet({ name: 't', rules: [{ id: 'r', type, params }] }, 'test'))
}

/** A customer state after `txs`, in the order given (arrival order). */
function customer(txs: readonly Tx[]): CustomerState {
  const s = new CustomerState()
  txs.forEach((x, i) => {
    const txn = new RecentTxn(
      x.t,
      x.amount ?? 100,
      x.lat ?? TEHRAN.lat,
      x.lng ?? TEHRAN.lng,
      transactionKey(`h${i}`)
    )
    applyTransaction(s, txn, insertionIndex(s.recent, x.t), 'merch_1', LIMITS)
  })
  return s
}

function evaluate(engine: RuleEngine, state: CustomerState, x: Tx): Evaluation {
  return engine.evaluate({
    customer: state,
    t: x.t,
    amount: x.amount ?? 100,
    lat: x.lat ?? TEHRAN.lat,
    lng: x.lng ?? TEHRAN.lng,
    pos: insertionIndex(state.recent, x.t)
  })
}

const fired = (e: Evaluation): boolean => e.trace.r!.fired

describe('velocity: more than maxCount transactions within windowSeconds (window includes its start)', () => {
  const engine = engineOf('velocity', { maxCount: 5, windowSeconds: 120 })
  const burst = (n: number, span: number): Tx[] =>
    Array.from({ length: n }, (_, i) => ({ t: T0 + (i * span) / Math.max(1, n - 1) }))

  test('6 transactions in exactly 120 s fire; the trace says count 6 in 120 s', () => {
    const e = evaluate(engine, customer(burst(5, 60_000)), { t: T0 + 120_000 })
    assert.equal(fired(e), true)
    assert.deepEqual(e.trace.r, { fired: true, count: 6, window_s: 120, max_count: 5 })
  })
  test('5 transactions in 120 s do not fire', () => {
    const e = evaluate(engine, customer(burst(4, 60_000)), { t: T0 + 120_000 })
    assert.equal(fired(e), false)
    assert.equal(e.trace.r!.count, 5)
  })
  test('a transaction exactly 120 s earlier counts; 120.001 s earlier does not', () => {
    const priors = [T0, T0 + 100_000, T0 + 101_000, T0 + 102_000, T0 + 103_000].map(t => ({ t }))
    assert.equal(fired(evaluate(engine, customer(priors), { t: T0 + 120_000 })), true)
    assert.equal(fired(evaluate(engine, customer(priors), { t: T0 + 120_001 })), false)
  })
  test('counts in event time: a later-arrived earlier event counts, a not-yet-happened one does not', () => {
    // Arrival order: +110 s first, then four earlier ones; evaluating at +100 s sees only those <= +100 s.
    const s = customer([
      { t: T0 + 110_000 },
      { t: T0 + 10_000 },
      { t: T0 + 20_000 },
      { t: T0 + 30_000 },
      { t: T0 + 40_000 }
    ])
    assert.equal(evaluate(engine, s, { t: T0 + 100_000 }).trace.r!.count, 5)
    assert.equal(evaluate(engine, s, { t: T0 + 115_000 }).trace.r!.count, 6)
  })
})

describe('impossible_travel: previous transaction in event time > minKm away and < maxMinutes earlier', () => {
  const engine = engineOf('impossible_travel', { minKm: 50, maxMinutes: 5 })
  const at = (km: number, t: number): Tx => ({ t, ...northOf(TEHRAN.lat, TEHRAN.lng, km) })
  const prev = customer([{ t: T0 }])

  test('50.1 km in 4 minutes fires, with km and minutes in the trace', () => {
    const e = evaluate(engine, prev, at(50.1, T0 + 240_000))
    assert.equal(fired(e), true)
    assert.equal(e.trace.r!.km, 50.1)
    assert.equal(e.trace.r!.minutes, 4)
  })
  test('49.9 km in 4 minutes does not fire', () => {
    assert.equal(fired(evaluate(engine, prev, at(49.9, T0 + 240_000))), false)
  })
  test('4:59 fires, 5:00 and 5:01 do not (strictly less than)', () => {
    assert.equal(fired(evaluate(engine, prev, at(63.2, T0 + 299_000))), true)
    assert.equal(fired(evaluate(engine, prev, at(63.2, T0 + 300_000))), false)
    assert.equal(fired(evaluate(engine, prev, at(63.2, T0 + 301_000))), false)
  })
  test('no previous transaction: does not fire', () => {
    assert.equal(fired(evaluate(engine, new CustomerState(), at(500, T0))), false)
  })
  test('the previous transaction is the latest EARLIER in event time, not the last to arrive', () => {
    // Far away at +10 min arrived first; Tehran at +1 min arrived second. An event at +3 min in
    // Tehran compares with +1 min (same place): no fire; one at +12 min compares with +10 min.
    const s = customer([at(300, T0 + 600_000), { t: T0 + 60_000 }])
    assert.equal(fired(evaluate(engine, s, { t: T0 + 180_000 })), false)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 720_000 })), true)
  })
})

describe('amount_anomaly: amount > multiplier × average of previous transactions, with >= minHistory', () => {
  const engine = engineOf('amount_anomaly', { multiplier: 10, minHistory: 3 })
  const three = customer([100, 100, 100].map((amount, i) => ({ t: T0 + i * 1000, amount })))
  const two = customer([100, 100].map((amount, i) => ({ t: T0 + i * 1000, amount })))

  test('10.1× with 3 priors fires; trace has ratio, average and history', () => {
    const e = evaluate(engine, three, { t: T0 + 10_000, amount: 1010 })
    assert.equal(fired(e), true)
    assert.equal(e.trace.r!.ratio, 10.1)
    assert.equal(e.trace.r!.average, 100)
    assert.equal(e.trace.r!.history, 3)
  })
  test('9.9× with 3 priors does not fire; exactly 10× does not either', () => {
    assert.equal(fired(evaluate(engine, three, { t: T0 + 10_000, amount: 990 })), false)
    assert.equal(fired(evaluate(engine, three, { t: T0 + 10_000, amount: 1000 })), false)
  })
  test('10.1× with only 2 priors does not fire', () => {
    assert.equal(fired(evaluate(engine, two, { t: T0 + 10_000, amount: 1010 })), false)
  })
  test('a seeded avg_spend is used with averageSource "profile", even without history', () => {
    const profile = engineOf('amount_anomaly', { multiplier: 5, minHistory: 3, averageSource: 'profile' })
    const s = new CustomerState()
    s.avgSpend = 50
    const e = evaluate(profile, s, { t: T0, amount: 251 })
    assert.equal(fired(e), true)
    assert.equal(e.trace.r!.source, 'profile')
    assert.equal(fired(evaluate(profile, s, { t: T0, amount: 250 })), false)
    // Without a profile it falls back to the running average and its history requirement.
    assert.equal(fired(evaluate(profile, two, { t: T0 + 10_000, amount: 600 })), false)
    assert.equal(fired(evaluate(profile, three, { t: T0 + 10_000, amount: 501 })), true)
  })
})

describe('location_change, new_location_amount, amount_threshold', () => {
  test('location_change: > minKm from the previous transaction < maxMinutes earlier', () => {
    const engine = engineOf('location_change', { minKm: 1, maxMinutes: 60 })
    const s = customer([{ t: T0 }])
    const p = (km: number): { lat: number; lng: number } => northOf(TEHRAN.lat, TEHRAN.lng, km)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 59 * 60_000, ...p(1.1) })), true)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 59 * 60_000, ...p(0.9) })), false)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 61 * 60_000, ...p(1.1) })), false)
  })
  test('new_location_amount: > minAmount and no known location within radiusKm', () => {
    const engine = engineOf('new_location_amount', { minAmount: 20_000, radiusKm: 1 })
    const s = customer([{ t: T0 }])
    const far = northOf(TEHRAN.lat, TEHRAN.lng, 1.5)
    const near = northOf(TEHRAN.lat, TEHRAN.lng, 0.5)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 1000, amount: 20_001, ...far })), true)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 1000, amount: 20_000, ...far })), false)
    assert.equal(fired(evaluate(engine, s, { t: T0 + 1000, amount: 20_001, ...near })), false)
    // A first transaction has no known place to be new against.
    assert.equal(fired(evaluate(engine, new CustomerState(), { t: T0, amount: 99_999, ...far })), false)
  })
  test('amount_threshold: amount > amount', () => {
    const engine = engineOf('amount_threshold', { amount: 900 })
    assert.equal(fired(evaluate(engine, new CustomerState(), { t: T0, amount: 901 })), true)
    assert.equal(fired(evaluate(engine, new CustomerState(), { t: T0, amount: 900 })), false)
  })
})

test('the engine reports fired rules in rule-set order, fraud flag, weights, and a trace JSON equal to JSON.stringify', () => {
  const set = parseRuleSet(
    {
      name: 'mix',
      rules: [
        { id: 'big', type: 'amount_threshold', params: { amount: 10 }, fraud: false, weight: 7 },
        { id: 'v', type: 'velocity', params: { maxCount: 0 } },
        { id: 'travel', type: 'impossible_travel' },
        { id: 'anomaly', type: 'amount_anomaly' }
      ]
    },
    'test'
  )
  const engine = new RuleEngine(set)
  const s = customer([
    { t: T0, amount: 5 },
    { t: T0 + 1, amount: 5 },
    { t: T0 + 2, amount: 5 }
  ])
  const e = evaluate(engine, s, { t: T0 + 1000, amount: 60, ...northOf(TEHRAN.lat, TEHRAN.lng, 80) })
  assert.deepEqual(e.fired, ['big', 'v', 'travel', 'anomaly'])
  assert.equal(e.fraud, true)
  assert.equal(e.fraudHits, 3)
  assert.equal(e.weightSum, 7 + 25 * 3)
  assert.equal(engine.encodeTrace(e), JSON.stringify(e.trace))
  const none = evaluate(engine, new CustomerState(), { t: T0, amount: 1 })
  assert.equal(engine.encodeTrace(none), JSON.stringify(none.trace))
})

test('trace numbers are formatted exactly as JSON.stringify would', async () => {
  const { formatRounded, round } = await import('../../src/domain/rules/evaluators.ts')
  let seed = 3
  const rand = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  const samples = [
    0,
    0.004,
    0.005,
    0.01,
    0.1,
    0.95,
    1,
    1.005,
    9.99,
    10.1,
    63.25,
    100,
    644444.444,
    1e9 + 0.5,
    5e13,
    1e15 + 0.25,
    3e21
  ]
  for (let i = 0; i < 20_000; i++) samples.push(rand() * 10 ** Math.floor(rand() * 10))
  for (const x of samples) {
    for (const d of [1, 2] as const) {
      const v = round(x, d)
      assert.equal(formatRounded(v, d), JSON.stringify(v), `${x} to ${d} digits`)
    }
  }
  assert.equal(formatRounded(Number.NaN, 2), 'null')
})
