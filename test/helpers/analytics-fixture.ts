import type { PaymentEvent } from '../../src/domain/event.ts'

/** A valid payment event; total_amount is kept consistent with amount, vat and commission. */
export function event(
  over: Partial<PaymentEvent> & { transaction_id: string; timestamp: string },
  decision?: 'fraud' | 'approved'
): PaymentEvent & { decision?: string } {
  const amount = over.amount ?? 100_000
  const commission = over.commission_amount ?? 2_000
  const vat = over.vat_amount ?? Math.round(amount * 0.09)
  const e = {
    customer_id: 'cust_1',
    card_id: 'card_1',
    merchant_id: 'merch_1',
    merchant_category: 'retail',
    payment_method: 'pos',
    location: { lat: 35.7, lng: 51.4 },
    device_info: {},
    status: 'approved',
    failure_reason: null,
    commission_type: 'flat',
    customer_type: 'individual',
    risk_level: 1,
    ...over,
    amount,
    commission_amount: commission,
    vat_amount: vat,
    total_amount: amount + vat + commission
  } as PaymentEvent
  return decision === undefined ? e : { ...e, decision }
}

/**
 * The hand-computed data set of the analytics tests (expected numbers are in the tests).
 * 2026-01-05 is a Monday.
 */
export const FIXTURE = [
  event(
    { transaction_id: 'a1', timestamp: '2026-01-05T09:10:00Z', amount: 100_000, commission_amount: 2_000 },
    'approved'
  ),
  event(
    {
      transaction_id: 'a2',
      timestamp: '2026-01-05T09:40:00Z',
      amount: 200_000,
      commission_amount: 5_000,
      commission_type: 'progressive',
      payment_method: 'online',
      device_info: { os: 'Android', app_version: '1.0', device_model: 'x' }
    },
    'fraud'
  ),
  event(
    {
      transaction_id: 'a3',
      timestamp: '2026-01-06T14:00:00Z',
      customer_id: 'cust_2',
      merchant_id: 'merch_2',
      merchant_category: 'food_service',
      payment_method: 'mobile',
      device_info: { os: 'iOS', app_version: '2.1', device_model: 'y' },
      amount: 50_000,
      commission_amount: 1_000,
      status: 'declined',
      failure_reason: 'insufficient_funds'
    },
    'approved'
  ),
  event(
    {
      transaction_id: 'a4',
      timestamp: '2026-01-07T09:05:00Z',
      customer_id: 'cust_2',
      merchant_id: 'merch_2',
      merchant_category: 'food_service',
      amount: 150_000,
      commission_amount: 3_000,
      commission_type: 'tiered'
    },
    'approved'
  ),
  event(
    {
      transaction_id: 'a5',
      timestamp: '2026-01-07T20:00:00Z',
      customer_id: 'cust_3',
      merchant_id: 'merch_3',
      payment_method: 'nfc',
      amount: 300_000,
      commission_amount: 6_000
    },
    'approved'
  ),
  event(
    {
      transaction_id: 'a6',
      timestamp: '2026-01-11T23:30:00Z',
      customer_id: 'cust_4',
      amount: 400_000,
      commission_amount: 4_000
    },
    'fraud'
  ),
  event(
    {
      transaction_id: 'a7',
      timestamp: '2026-01-11T14:20:00Z',
      merchant_id: 'merch_3',
      merchant_category: 'transportation',
      amount: 60_000,
      commission_amount: 600
    },
    'approved'
  )
]
