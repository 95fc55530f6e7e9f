import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PaymentEvent, ValidationCode } from '../../src/domain/event.ts'
import { DEFAULT_VALIDATION, issueCodes, validateEvent, type Validated } from '../../src/domain/validate.ts'
import { makeEvent, T0 } from '../topology/fixtures.ts'

const INGESTION = T0 + 60_000

function codes(value: unknown, ingestion = INGESTION): ValidationCode[] {
  const v = validateEvent(value, ingestion)
  return v.ok ? [] : issueCodes(v.issues)
}

function withFields(over: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const e: Record<string, unknown> = { ...makeEvent(), ...over }
  for (const k of drop) delete e[k]
  return e
}

test('a well-formed event is valid and its event time is parsed', () => {
  const e = makeEvent({ t: T0 })
  const v = validateEvent(e, INGESTION)
  assert.equal(v.ok, true)
  assert.equal((v as Extract<Validated, { ok: true }>).eventTimeMs, T0)
})

describe('ERR_SCHEMA', () => {
  test('ids are bounded: 256 characters pass, 257 do not (named in the issue)', () => {
    for (const field of ['transaction_id', 'customer_id', 'merchant_id', 'card_id']) {
      assert.deepEqual(codes(withFields({ [field]: 'x'.repeat(256) })), [], field)
      const v = validateEvent(withFields({ [field]: 'x'.repeat(257) }), INGESTION)
      assert.equal(v.ok, false, field)
      const issues = (v as Extract<Validated, { ok: false }>).issues
      assert.deepEqual(
        issues.map(i => [i.code, i.field, i.message]),
        [['ERR_SCHEMA', field, 'longer than 256 characters']]
      )
    }
  })
  test('not an object', () => {
    for (const v of [null, 42, 'x', [], true]) assert.deepEqual(codes(v), ['ERR_SCHEMA'])
  })
  test('missing or mistyped fields', () => {
    assert.deepEqual(codes(withFields({}, ['transaction_id'])), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ customer_id: 7 })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ merchant_category: 'casino' })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ payment_method: 'cash' })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ location: { lat: 95, lng: 51 } })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ location: null })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ risk_level: 6 })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ failure_reason: 'bad_luck' })), ['ERR_SCHEMA'])
    assert.deepEqual(codes(withFields({ device_info: 'phone' })), ['ERR_SCHEMA'])
  })
  test('mistyped amounts are a schema error, not an amount error', () => {
    assert.deepEqual(codes(withFields({ amount: '100' })), ['ERR_SCHEMA'])
  })
  test('the issues name the field', () => {
    const v = validateEvent(withFields({ merchant_id: '' }), INGESTION)
    assert.equal(v.ok, false)
    assert.deepEqual(
      (v as Extract<Validated, { ok: false }>).issues.map(i => [i.code, i.field]),
      [['ERR_SCHEMA', 'merchant_id']]
    )
  })
  test('a missing timestamp is a missing field: ERR_SCHEMA (SPEC 5.1)', () => {
    assert.deepEqual(codes(withFields({}, ['timestamp'])), ['ERR_SCHEMA'])
  })
})

describe('ERR_AMOUNT: |total − (amount + vat + commission)| > 0.01', () => {
  const e = makeEvent({ amount: 1000, vat_amount: 90, commission_amount: 10 })
  test('exact and within 0.01 pass; beyond fails', () => {
    assert.deepEqual(codes({ ...e, total_amount: 1100 }), [])
    assert.deepEqual(codes({ ...e, total_amount: 1100.01 }), [])
    assert.deepEqual(codes({ ...e, total_amount: 1100.02 }), ['ERR_AMOUNT'])
    assert.deepEqual(codes({ ...e, total_amount: 1099 }), ['ERR_AMOUNT'])
  })
  test('a non-positive amount', () => {
    assert.deepEqual(codes(makeEvent({ amount: 0, vat_amount: 0, commission_amount: 0 })), ['ERR_AMOUNT'])
  })
})

describe('ERR_TIME: unparsable, after ingestion beyond the skew, or older than the maximum age', () => {
  const at = (timestamp: string | number): PaymentEvent => ({ ...makeEvent(), timestamp })
  const skew = DEFAULT_VALIDATION.maxFutureSkewMs
  const age = DEFAULT_VALIDATION.maxAgeMs
  test('ISO-8601, epoch seconds and epoch millis (numbers or digit strings) all parse to the same time', () => {
    for (const ts of [
      '2025-05-01T12:00:00.000Z',
      '2025-05-01T12:00:00Z',
      T0,
      T0 / 1000,
      String(T0),
      String(T0 / 1000),
      '2025-05-01T15:30:00+03:30'
    ]) {
      const v = validateEvent(at(ts), INGESTION)
      assert.equal(v.ok, true, String(ts))
      assert.equal((v as Extract<Validated, { ok: true }>).eventTimeMs, T0, String(ts))
    }
  })
  test('unparsable', () => {
    for (const ts of ['yesterday', '', '1 May 2025', -5, 'NaN'])
      assert.deepEqual(codes(at(ts)), ['ERR_TIME'], String(ts))
  })
  test('impossible dates and times are unparsable, not rolled over to the next day or month', () => {
    const day = (iso: string): string => iso.slice(0, 10)
    const near = (iso: string): PaymentEvent => at(iso)
    const ingestion = Date.parse('2024-03-01T12:00:00.000Z')
    for (const ts of [
      '2025-02-29T12:00:00.000Z',
      '2024-02-30T12:00:00.000Z',
      '2024-04-31T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-02-00T00:00:00Z',
      '2024-02-28T24:00:00.000Z',
      '2024-02-28T23:60:00Z',
      '2024-02-28T23:59:60Z'
    ]) {
      assert.deepEqual(codes(near(ts), ingestion), ['ERR_TIME'], ts)
    }
    // Real ones still parse: a leap day, the last second of a month, an offset crossing midnight.
    for (const ts of ['2024-02-29T12:00:00.000Z', '2024-02-29T23:59:59Z', '2024-03-01T01:30:00+03:30']) {
      const v = validateEvent(near(ts), ingestion)
      assert.equal(v.ok, true, ts)
      assert.equal(
        day(new Date((v as Extract<Validated, { ok: true }>).eventTimeMs).toISOString()),
        '2024-02-29',
        ts
      )
    }
  })
  test('the future skew edge: exactly the skew passes, one millisecond more fails', () => {
    assert.deepEqual(codes(at(INGESTION + skew)), [])
    assert.deepEqual(codes(at(INGESTION + skew + 1)), ['ERR_TIME'])
  })
  test('the age edge: exactly the maximum age passes, one millisecond more fails', () => {
    assert.deepEqual(codes(at(INGESTION - age)), [])
    assert.deepEqual(codes(at(INGESTION - age - 1)), ['ERR_TIME'])
  })
  test('bounds are configurable', () => {
    const v = validateEvent(at(INGESTION + 5_000), INGESTION, {
      ...DEFAULT_VALIDATION,
      maxFutureSkewMs: 1_000
    })
    assert.equal(v.ok, false)
  })
})

describe('ERR_DEVICE: a mobile payment must come from iOS or Android', () => {
  test('mobile with iOS or Android passes; another OS or none fails', () => {
    assert.deepEqual(codes(makeEvent({ payment_method: 'mobile', device_info: { os: 'iOS' } })), [])
    assert.deepEqual(codes(makeEvent({ payment_method: 'mobile', device_info: { os: 'Android' } })), [])
    assert.deepEqual(codes(makeEvent({ payment_method: 'mobile', device_info: { os: 'Windows' } })), [
      'ERR_DEVICE'
    ])
    assert.deepEqual(codes(makeEvent({ payment_method: 'mobile', device_info: {} })), ['ERR_DEVICE'])
    assert.deepEqual(codes(makeEvent({ payment_method: 'mobile', device_info: { os: 'ios' } })), [
      'ERR_DEVICE'
    ])
  })
  test('other payment methods need no device', () => {
    assert.deepEqual(codes(makeEvent({ payment_method: 'pos', device_info: {} })), [])
    assert.deepEqual(codes(makeEvent({ payment_method: 'online', device_info: { os: 'Windows' } })), [])
  })
})

test('several errors on one event are all reported, in catalogue order, each once', () => {
  const e = {
    ...makeEvent({ payment_method: 'mobile', device_info: { os: 'Symbian' } }),
    total_amount: 1,
    timestamp: 'soon',
    risk_level: 0,
    status: 'maybe'
  }
  const v = validateEvent(e, INGESTION)
  assert.equal(v.ok, false)
  const failed = v as Extract<Validated, { ok: false }>
  assert.deepEqual(issueCodes(failed.issues), ['ERR_SCHEMA', 'ERR_AMOUNT', 'ERR_TIME', 'ERR_DEVICE'])
  assert.ok(failed.issues.filter(i => i.code === 'ERR_SCHEMA').length >= 2)
  assert.equal(failed.transactionId, e.transaction_id)
  assert.equal(failed.customerId, e.customer_id)
  assert.equal(failed.eventTimeMs, null)
})
