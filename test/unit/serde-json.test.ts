import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PaymentEvent } from '../../src/domain/event.ts'
import { decodeEventJson, encodeEventJson } from '../../src/domain/serde-json.ts'

const sample: PaymentEvent = {
  transaction_id: '99df9fd3-5866-4137-a94c-74f396ed1783',
  timestamp: '2025-04-26T12:19:10.304Z',
  customer_id: 'cust_303',
  card_id: 'card_0123456789abcdef',
  merchant_id: 'merch_41',
  merchant_category: 'food_service',
  payment_method: 'pos',
  amount: 351671,
  location: { lat: 35.670073724546555, lng: 51.345939574762355 },
  device_info: {},
  status: 'approved',
  commission_type: 'flat',
  commission_amount: 7033,
  vat_amount: 31650,
  total_amount: 390354,
  customer_type: 'CIP',
  risk_level: 3,
  failure_reason: null
}

describe('JSON serde', () => {
  it('encodes as UTF-8 JSON and decodes back', () => {
    const bytes = encodeEventJson(sample)
    assert.ok(Buffer.isBuffer(bytes))
    assert.equal(bytes.toString('utf8'), JSON.stringify(sample))
    assert.deepEqual(decodeEventJson(bytes), { ok: true, value: sample })
    assert.deepEqual(decodeEventJson(new Uint8Array(bytes)), { ok: true, value: sample })
    assert.deepEqual(decodeEventJson(JSON.stringify(sample)), { ok: true, value: sample })
  })

  it('decodes any JSON value without judging its shape (the validator does)', () => {
    assert.deepEqual(decodeEventJson('[1,2]'), { ok: true, value: [1, 2] })
    assert.deepEqual(decodeEventJson('{"amount":"12"}'), { ok: true, value: { amount: '12' } })
  })

  it('returns a one-line reason instead of throwing for payloads that are not JSON', () => {
    for (const bad of ['{"transaction_id":"99df', "{'a': 1}", '', Buffer.from([0xff, 0x00, 0x13])]) {
      const result = decodeEventJson(bad)
      assert.equal(result.ok, false)
      if (!result.ok) {
        assert.match(result.error, typeof bad === 'string' ? /^not JSON: / : /^not valid UTF-8: /)
        assert.ok(!result.error.includes('\n'))
      }
    }
  })
})
