import assert from 'node:assert/strict'
import { test } from 'node:test'
import { FRAUD_FLOOR, riskScore, severityOf, type ScoreInput } from '../../src/domain/scoring.ts'

const BASE: ScoreInput = {
  ratio: 1,
  windowCount: 1,
  windowMax: 5,
  merchantCount: 0,
  merchantFraud: 0,
  weightSum: 0,
  fraudHits: 0
}

let seed = 7
const rand = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
  return seed / 0x7fffffff
}

function randomInput(): ScoreInput {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!
  return {
    ratio: pick([Number.NaN, 0, 0.5, 1, 2, 10, 1e6, Number.POSITIVE_INFINITY, rand() * 50]),
    windowCount: pick([1, 2, 6, 100, Math.floor(rand() * 20)]),
    windowMax: pick([0, 1, 5, 50]),
    merchantCount: Math.floor(rand() * 1000),
    merchantFraud: Math.floor(rand() * 100),
    weightSum: pick([0, 10, 25, 75, 500, rand() * 100]),
    fraudHits: pick([0, 0, 1, 2, 3, 10])
  }
}

test('the score is always an integer from 0 to 100', () => {
  for (let i = 0; i < 5_000; i++) {
    const s = riskScore(randomInput())
    assert.ok(Number.isInteger(s) && s >= 0 && s <= 100, `${s}`)
  }
})

test('an ordinary event scores low; without rule hits the score stays at or below 70', () => {
  assert.equal(riskScore(BASE), 0)
  const worst: ScoreInput = { ...BASE, ratio: 1e9, windowCount: 1e3, merchantCount: 10, merchantFraud: 10 }
  assert.equal(riskScore(worst), 70)
})

test('a fraud rule always lifts the score above the default alert threshold', () => {
  for (let i = 0; i < 1_000; i++) {
    const s = riskScore({ ...randomInput(), fraudHits: 1 + Math.floor(rand() * 3) })
    assert.ok(s > 80 && s >= FRAUD_FLOOR, `${s}`)
  }
})

test('the score is monotonic in rule hits (more fired rules never lower it)', () => {
  for (let i = 0; i < 2_000; i++) {
    const x = randomInput()
    const w = [0, 10, 25][Math.floor(rand() * 3)]!
    const fraud = rand() < 0.5 ? 1 : 0
    assert.ok(riskScore({ ...x, weightSum: x.weightSum + w, fraudHits: x.fraudHits + fraud }) >= riskScore(x))
  }
})

test('each factor adds what the formula says', () => {
  assert.equal(riskScore({ ...BASE, ratio: 10 }), 35)
  assert.equal(riskScore({ ...BASE, ratio: Math.sqrt(10) }), 18) // 35 × 0.5 = 17.5, rounded
  assert.equal(riskScore({ ...BASE, windowCount: 6 }), 20)
  assert.equal(riskScore({ ...BASE, windowCount: 3 }), 8)
  assert.equal(riskScore({ ...BASE, merchantCount: 10, merchantFraud: 4 }), 15)
  assert.equal(riskScore({ ...BASE, weightSum: 10 }), 10)
  assert.equal(riskScore({ ...BASE, weightSum: 25, fraudHits: 1 }), 85)
  assert.equal(riskScore({ ...BASE, weightSum: 50, fraudHits: 2 }), 90)
})

test('severity', () => {
  assert.equal(severityOf(100), 'critical')
  assert.equal(severityOf(85), 'high')
  assert.equal(severityOf(81), 'medium')
})
