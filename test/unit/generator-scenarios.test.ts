import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import avro from 'avsc'
import { createGenerator } from '../../src/apps/generator/index.ts'
import type { GeneratedRecord, GeneratorOptions } from '../../src/apps/generator/index.ts'

/**
 * Replays the stream the way the default rules see it (per customer, in event time) and
 * checks that every labelled event has its property and that ordinary (legit) events
 * cannot trip the rules. Independent of the generator's own bookkeeping: own haversine,
 * own windows, the schema file read by an independent avsc Type.
 */

const START = Date.UTC(2025, 3, 26, 5, 0, 0)
const FRAUD = new Set(['velocity', 'impossible_travel', 'amount_anomaly', 'new_location_large_amount'])
const schema = avro.Type.forSchema(
  JSON.parse(
    readFileSync(new URL('../../schemas/payment_event.avsc', import.meta.url), 'utf8')
  ) as avro.Schema
)

function km(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const r = Math.PI / 180
  const h =
    Math.sin(((b.lat - a.lat) * r) / 2) ** 2 +
    Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(((b.lng - a.lng) * r) / 2) ** 2
  return 2 * 6371 * Math.asin(Math.sqrt(h))
}

interface Seen {
  t: number
  lat: number
  lng: number
  amount: number
  approved: boolean
}

function mean(xs: Seen[]): number {
  return xs.reduce((s, x) => s + x.amount, 0) / xs.length
}

export function checkStream(records: GeneratedRecord[]): Record<string, number> {
  const valid = new Map<string, Seen[]>() // valid events per customer
  const every = new Map<string, number[]>() // times of all events per customer (invalid included)
  const counts: Record<string, number> = {}
  for (const r of records) {
    counts[r.label] = (counts[r.label] ?? 0) + 1
    const times = every.get(r.key) ?? []
    every.set(r.key, times)
    times.push(r.eventTimeMs)
    if (!FRAUD.has(r.label) && r.label !== 'legit') continue
    const e = r.event
    assert.ok(e !== undefined, `${r.label} without event`)
    assert.ok(schema.isValid(e), `not valid Avro: ${r.raw}`)
    assert.equal(e.total_amount, e.amount + e.vat_amount + e.commission_amount)
    if (e.payment_method === 'mobile') assert.ok(e.device_info.os === 'iOS' || e.device_info.os === 'Android')
    if (e.payment_method === 'pos' || e.payment_method === 'nfc') assert.deepEqual(e.device_info, {})
    assert.equal(e.failure_reason === null, e.status === 'approved')
    const priors = valid.get(r.key) ?? []
    valid.set(r.key, priors)
    const t = r.eventTimeMs
    const here = e.location
    const inWindowValid = priors.filter(p => p.t > t - 120_000).length + 1
    const inWindowAll = times.filter(x => x > t - 120_000).length
    const prev = priors.at(-1)
    const travel = prev !== undefined && km(prev, here) > 50 && t - prev.t < 300_000
    const approved = priors.filter(p => p.approved)
    const anomaly =
      priors.length >= 3 &&
      (e.amount > 10 * mean(priors) || (approved.length > 0 && e.amount > 10 * mean(approved)))
    const ctx = `${r.label} ${r.scenarioId ?? ''} ${e.customer_id} at ${e.timestamp}`
    switch (r.label) {
      case 'legit':
        assert.ok(inWindowAll <= 5, `legit event is #${inWindowAll} within 120 s: ${ctx}`)
        assert.ok(!travel, `legit event after a far event within 5 min: ${ctx}`)
        assert.ok(!anomaly, `legit amount ${e.amount} > 10× the mean of ${priors.length} priors: ${ctx}`)
        break
      case 'velocity':
        assert.ok(inWindowValid > 5, `velocity event is only #${inWindowValid} within 120 s: ${ctx}`)
        assert.ok(!travel && !anomaly, ctx)
        break
      case 'impossible_travel':
        assert.ok(prev !== undefined, ctx)
        assert.ok(km(prev, here) > 50, `only ${km(prev, here)} km: ${ctx}`)
        assert.ok(t - prev.t < 300_000 && t > prev.t, `${t - prev.t} ms after the previous event: ${ctx}`)
        assert.ok(inWindowValid <= 5 && !anomaly, ctx)
        break
      case 'amount_anomaly':
        assert.ok(priors.length >= 3, `${priors.length} priors: ${ctx}`)
        assert.ok(e.amount > 10 * mean(priors), ctx)
        assert.ok(approved.length === 0 || e.amount > 10 * mean(approved), ctx)
        assert.ok(inWindowValid <= 5 && !travel, ctx)
        break
      case 'new_location_large_amount':
        assert.ok(e.amount > 20_000, ctx)
        for (const p of priors) assert.ok(km(p, here) > 50, `seen ${km(p, here)} km away before: ${ctx}`)
        // Kept clear of the default rules, so it measures new-location rule sets only.
        assert.ok(inWindowValid <= 5 && !travel && !anomaly, ctx)
        break
    }
    priors.push({ t, lat: here.lat, lng: here.lng, amount: e.amount, approved: e.status === 'approved' })
  }
  return counts
}

function run(options: Partial<GeneratorOptions>) {
  const generator = createGenerator({ start: START, seed: 11, rate: 'max', count: 40_000, ...options })
  const records = [...generator]
  // Guarantees hold while customers are free; crowding (rate above capacity) voids them.
  assert.equal(generator.stats.crowded, 0, 'ordinary events had to reuse busy customers')
  return { records, stats: generator.stats, counts: checkStream(records) }
}

describe('generator: scenarios and ordinary traffic', () => {
  it('default traffic with history: every scenario has its property, ordinary events trip no default rule', () => {
    const { records, counts } = run({ history: 5_000, historyDays: 2 })
    for (const label of FRAUD) assert.ok((counts[label] ?? 0) > 20, `${label}: ${counts[label]}`)
    const live = records.filter(r => r.phase === 'live')
    const fraud = live.filter(r => FRAUD.has(r.label)).length / live.length
    const invalid = live.filter(r => r.label !== 'legit' && !FRAUD.has(r.label)).length / live.length
    assert.ok(fraud > 0.016 && fraud < 0.024, `fraud share ${fraud}`)
    assert.ok(invalid > 0.007 && invalid < 0.013, `invalid share ${invalid}`)
    const declined = live.filter(r => r.label === 'legit' && r.event?.status === 'declined').length
    assert.ok(declined / live.length > 0.04 && declined / live.length < 0.06, `declined ${declined}`)
  })

  it('holds under a high fraud rate at a constant rate', () => {
    const { counts } = run({ rate: 10, fraudRate: 0.2, invalidRate: 0.1, count: 30_000, seed: 12 })
    for (const label of FRAUD) assert.ok((counts[label] ?? 0) > 200, `${label}: ${counts[label]}`)
  })

  it('labels every event of a scenario with its id; the setup events are legit', () => {
    const { records } = run({ fraudRate: 0.1, count: 10_000 })
    const byScenario = new Map<string, GeneratedRecord[]>()
    for (const r of records)
      if (r.scenarioId !== undefined)
        byScenario.set(r.scenarioId, [...(byScenario.get(r.scenarioId) ?? []), r])
    assert.ok(byScenario.size > 100)
    for (const [id, events] of byScenario) {
      assert.match(id, /^sc_\d+$/)
      assert.equal(new Set(events.map(e => e.key)).size, 1, `${id} spans customers`)
      const kinds = new Set(events.map(e => e.label).filter(l => l !== 'legit'))
      assert.ok(kinds.size <= 1, `${id}: ${[...kinds]}`)
      const kind = [...kinds][0]
      const labels = events.map(e => e.label)
      if (kind === 'velocity') {
        assert.ok(events.length >= 6 || events.at(-1) === records.at(-1), `${id}: ${labels}`)
        assert.deepEqual(labels.slice(0, 5), ['legit', 'legit', 'legit', 'legit', 'legit'])
        assert.ok(labels.slice(5).every(l => l === 'velocity'))
      } else if (kind === 'impossible_travel') {
        assert.deepEqual(labels, ['legit', 'impossible_travel'])
      } else if (kind !== undefined) {
        assert.deepEqual(labels, [kind])
      }
    }
  })

  it('invalid events carry exactly their intended defect', () => {
    const { records } = run({ invalidRate: 0.2, count: 5_000 })
    const seen = new Set<string>()
    for (const r of records) {
      if (r.label === 'legit' || FRAUD.has(r.label)) continue
      seen.add(r.label)
      checkInvalid(r.label, r.raw, r.eventTimeMs)
    }
    assert.equal(seen.size, 6)
  })
})

/** The defect of an invalid line, checked from the raw bytes alone. */
export function checkInvalid(label: string, raw: string, eventTimeMs: number): void {
  if (label === 'malformed_json') {
    assert.throws(() => JSON.parse(raw), SyntaxError, raw)
    return
  }
  const e = JSON.parse(raw) as Record<string, unknown> & {
    amount: number
    vat_amount: number
    commission_amount: number
    total_amount: number
    timestamp: string
    payment_method: string
    device_info: { os?: string }
  }
  if (label === 'invalid_schema') {
    assert.ok(!schema.isValid(e), `schema-valid: ${raw}`)
    return
  }
  assert.ok(schema.isValid(e), `${label} should only have its own defect: ${raw}`)
  const sum = e.amount + e.vat_amount + e.commission_amount
  if (label === 'invalid_amount') assert.ok(Math.abs(e.total_amount - sum) >= 1, raw)
  else assert.equal(e.total_amount, sum)
  const skew = Date.parse(e.timestamp) - eventTimeMs
  if (label === 'invalid_time_future') assert.ok(skew >= 3_600_000, raw)
  else if (label === 'invalid_time_old') assert.ok(skew < -86_400_000, raw)
  else assert.equal(skew, 0)
  const badDevice =
    e.payment_method === 'mobile' && e.device_info.os !== 'iOS' && e.device_info.os !== 'Android'
  assert.equal(badDevice, label === 'invalid_device', raw)
}
