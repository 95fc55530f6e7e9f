import type { PaymentEvent } from '../../src/domain/event.ts'
import type { LogRecord } from '../../src/ports/log.ts'

/** Tehran, the centre of generated traffic. */
export const TEHRAN = { lat: 35.6892, lng: 51.389 }
/** Midday, 1 May 2025 (UTC). */
export const T0 = Date.parse('2025-05-01T12:00:00.000Z')

let seq = 0

/** A valid event; amounts stay consistent (total = amount + vat + commission) unless overridden. */
export function makeEvent(over: Partial<PaymentEvent> & { t?: number } = {}): PaymentEvent {
  const { t, ...rest } = over
  const amount = rest.amount ?? 100_000
  const vat = rest.vat_amount ?? Math.round(amount * 0.09)
  const commission = rest.commission_amount ?? 1_000
  seq++
  return {
    transaction_id: `txn-${String(seq).padStart(6, '0')}`,
    timestamp: new Date(t ?? T0).toISOString(),
    customer_id: 'cust_1',
    card_id: 'card_1',
    merchant_id: 'merch_1',
    merchant_category: 'retail',
    payment_method: 'pos',
    amount,
    location: { ...TEHRAN },
    device_info: {},
    status: 'approved',
    failure_reason: null,
    commission_type: 'flat',
    commission_amount: commission,
    vat_amount: vat,
    total_amount: amount + vat + commission,
    customer_type: 'individual',
    risk_level: 2,
    ...rest
  }
}

/** Wraps values as log records of one partition, from `offset` on; `timestamp` is the ingestion time. */
export function toRecords(
  values: readonly (PaymentEvent | Record<string, unknown> | string | null)[],
  opts: { topic?: string; partition?: number; offset?: number; timestamp?: number } = {}
): LogRecord[] {
  const start = opts.offset ?? 0
  return values.map((v, i) => ({
    topic: opts.topic ?? 'darooghe.transactions',
    partition: opts.partition ?? 0,
    offset: start + i,
    key: null,
    value: v === null ? null : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
    headers: {},
    timestamp: opts.timestamp ?? T0 + 60_000
  }))
}
