import type {
  CommissionType,
  MerchantCategory,
  PaymentMethod,
  Status,
  ValidationCode
} from '../../domain/event.ts'
import { validateEvent, type ValidationOptions } from '../../domain/validate.ts'

/**
 * What the aggregates read of one transaction: the fields they group and sum by, nothing more,
 * so a batch of rows is small whatever the source carried (traces, device info, locations).
 */
export interface Row {
  readonly id: string
  /** Event time, epoch ms. */
  readonly timeMs: number
  readonly customerId: string
  readonly merchantId: string
  readonly category: MerchantCategory
  readonly method: PaymentMethod
  readonly status: Status
  readonly commissionType: CommissionType
  /** Integer Rial. */
  readonly amount: number
  readonly commission: number
  /** Present when the row is a decided event (decision records, the `transactions` collection). */
  readonly decision?: 'fraud' | 'approved'
}

/**
 * Why a record was not analysed; counted per reason and reported at the end of a run.
 * 'over_limits': beyond the record limits (size, nesting, string length, fields); 'failed': the
 * record made the reader fail (counted, never stopping the run).
 */
export type SkipReason = 'not_json' | 'over_limits' | 'failed' | 'not_a_transaction' | ValidationCode

/**
 * Historical data has no ingestion time to judge ERR_TIME against: any readable timestamp is
 * accepted. Every other check of the processor applies, so a file analysed directly gives the
 * same rows as the events the processor would have decided and stored.
 */
const HISTORY: ValidationOptions = Object.freeze({
  maxFutureSkewMs: Number.POSITIVE_INFINITY,
  maxAgeMs: Number.POSITIVE_INFINITY,
  amountTolerance: 0.01
})

/**
 * A decoded record as a Row, or the reason it is skipped. Accepts a payment event, a decision
 * (the event with decision fields appended), a `transactions` document, or a `darooghe detect
 * --output` line `{topic, key, value}` wrapping one; other records of such a file (alerts,
 * error and late records) are 'not_a_transaction'.
 */
export function toRow(value: unknown): Row | SkipReason {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not_a_transaction'
  let v = value as Record<string, unknown>
  if (typeof v.topic === 'string' && 'value' in v && v.transaction_id === undefined) {
    const inner = v.value
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return 'not_a_transaction'
    v = inner as Record<string, unknown>
  }
  if (v.merchant_category === undefined && v.commission_type === undefined) return 'not_a_transaction'
  const checked = validateEvent(v, 0, HISTORY)
  if (!checked.ok) return checked.issues[0]!.code
  const e = checked.event
  const decision = v.decision === 'fraud' || v.decision === 'approved' ? v.decision : undefined
  return {
    id: e.transaction_id,
    timeMs: checked.eventTimeMs,
    customerId: e.customer_id,
    merchantId: e.merchant_id,
    category: e.merchant_category,
    method: e.payment_method,
    status: e.status,
    commissionType: e.commission_type,
    amount: e.amount,
    commission: e.commission_amount,
    ...(decision === undefined ? {} : { decision })
  }
}

/** Counts of skipped records by reason, in a stable key order for reports. */
export class SkipCounter {
  readonly counts: Partial<Record<SkipReason, number>> = {}
  total = 0

  add(reason: SkipReason): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1
    this.total++
  }

  toJSON(): { total: number; by_reason: Record<string, number> } {
    const keys = Object.keys(this.counts).sort() as SkipReason[]
    return { total: this.total, by_reason: Object.fromEntries(keys.map(k => [k, this.counts[k]!])) }
  }
}
