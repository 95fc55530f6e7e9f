import {
  COMMISSION_TYPES,
  CUSTOMER_TYPES,
  MERCHANT_CATEGORIES,
  PAYMENT_METHODS,
  STATUSES,
  type PaymentEvent,
  VALIDATION_CODES,
  type ValidationCode
} from './event.ts'
import { parseTimestamp } from './time.ts'

/** Options of the validator; every field has a default (see DEFAULT_VALIDATION). */
export interface ValidationOptions {
  /** How far past ingestion time an event may be stamped (clock skew), ms. Default 60 000. */
  readonly maxFutureSkewMs: number
  /** How long before ingestion time an event may be stamped, ms. Default 1 day. */
  readonly maxAgeMs: number
  /** Largest tolerated |total − (amount + vat + commission)|. Default 0.01. */
  readonly amountTolerance: number
}

export const DEFAULT_VALIDATION: ValidationOptions = Object.freeze({
  maxFutureSkewMs: 60_000,
  maxAgeMs: 86_400_000,
  amountTolerance: 0.01
})

export interface ValidationIssue {
  readonly code: ValidationCode
  readonly field: string
  readonly message: string
}

export type Validated =
  | { readonly ok: true; readonly event: PaymentEvent; readonly eventTimeMs: number }
  | {
      readonly ok: false
      readonly issues: ValidationIssue[]
      /** What could be read of the event, for the error record. */
      readonly transactionId: string | null
      readonly customerId: string | null
      readonly eventTimeMs: number | null
    }

const categories = new Set<string>(MERCHANT_CATEGORIES)
const methods = new Set<string>(PAYMENT_METHODS)
const statuses = new Set<string>(STATUSES)
const commissionTypes = new Set<string>(COMMISSION_TYPES)
const customerTypes = new Set<string>(CUSTOMER_TYPES)
const failureReasons = new Set<string>(['cancelled', 'insufficient_funds', 'system_error', 'fraud_prevented'])

type Rec = Record<string, unknown>

/**
 * Checks a decoded event against SPEC section 5.1. The happy path allocates only the result
 * object: issues are collected lazily, so a valid event creates no error objects.
 */
export function validateEvent(
  value: unknown,
  ingestionMs: number,
  options: ValidationOptions = DEFAULT_VALIDATION
): Validated {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail([{ code: 'ERR_SCHEMA', field: '$', message: 'event is not a JSON object' }], null)
  }
  const e = value as Rec
  const fastTime = isValid(e, ingestionMs, options)
  if (!Number.isNaN(fastTime)) return { ok: true, event: e as unknown as PaymentEvent, eventTimeMs: fastTime }
  let issues: ValidationIssue[] | null = null
  const add = (code: ValidationCode, field: string, message: string): void => {
    ;(issues ??= []).push({ code, field, message })
  }

  for (const field of ['transaction_id', 'customer_id', 'merchant_id'] as const) {
    const v = e[field]
    if (!isNonEmptyString(v)) add('ERR_SCHEMA', field, 'missing or not a string')
    else if (v.length > MAX_ID_LENGTH) add('ERR_SCHEMA', field, `longer than ${MAX_ID_LENGTH} characters`)
  }
  if (e.card_id !== undefined && e.card_id !== null && typeof e.card_id !== 'string') {
    add('ERR_SCHEMA', 'card_id', 'not a string')
  } else if (typeof e.card_id === 'string' && e.card_id.length > MAX_ID_LENGTH) {
    add('ERR_SCHEMA', 'card_id', `longer than ${MAX_ID_LENGTH} characters`)
  }
  checkEnum(e, 'merchant_category', categories, add)
  checkEnum(e, 'payment_method', methods, add)
  checkEnum(e, 'status', statuses, add)
  checkEnum(e, 'commission_type', commissionTypes, add)
  checkEnum(e, 'customer_type', customerTypes, add)
  if (
    e.failure_reason !== null &&
    e.failure_reason !== undefined &&
    !failureReasons.has(e.failure_reason as string)
  ) {
    add('ERR_SCHEMA', 'failure_reason', `not null or one of ${[...failureReasons].join(', ')}`)
  }
  if (!Number.isInteger(e.risk_level) || (e.risk_level as number) < 1 || (e.risk_level as number) > 5) {
    add('ERR_SCHEMA', 'risk_level', 'missing or not an integer 1-5')
  }
  const loc = e.location as Rec | null | undefined
  if (
    loc === null ||
    typeof loc !== 'object' ||
    !isFiniteNumber(loc.lat) ||
    !isFiniteNumber(loc.lng) ||
    Math.abs(loc.lat) > 90 ||
    Math.abs(loc.lng) > 180
  ) {
    add('ERR_SCHEMA', 'location', 'missing or not {lat, lng} in range')
  }
  const device = e.device_info
  const deviceOk =
    device === undefined || device === null || (typeof device === 'object' && !Array.isArray(device))
  if (!deviceOk) add('ERR_SCHEMA', 'device_info', 'not an object')

  // Amounts: types first, then the arithmetic of ERR_AMOUNT.
  const amountsTyped =
    isFiniteNumber(e.amount) &&
    isFiniteNumber(e.vat_amount) &&
    isFiniteNumber(e.commission_amount) &&
    isFiniteNumber(e.total_amount)
  if (!amountsTyped) {
    add('ERR_SCHEMA', 'amount', 'amount, vat_amount, commission_amount and total_amount must be numbers')
  } else {
    const amount = e.amount as number
    const expected = amount + (e.vat_amount as number) + (e.commission_amount as number)
    if (amount <= 0) add('ERR_AMOUNT', 'amount', `amount must be positive (got ${amount})`)
    if (Math.abs((e.total_amount as number) - expected) > options.amountTolerance) {
      add(
        'ERR_AMOUNT',
        'total_amount',
        `total_amount ${e.total_amount} != amount + vat + commission = ${expected}`
      )
    }
  }

  // Time: unparsable, in the future beyond the skew, or too old.
  const eventTimeMs = parseTimestamp(e.timestamp)
  if (typeof e.timestamp !== 'string' && typeof e.timestamp !== 'number') {
    // Missing or mistyped is a schema problem; a string that does not parse is a time problem.
    add('ERR_SCHEMA', 'timestamp', 'missing or not a string or number')
  } else if (Number.isNaN(eventTimeMs)) {
    add('ERR_TIME', 'timestamp', 'missing or unparsable (ISO-8601, epoch seconds or epoch millis)')
  } else if (eventTimeMs > ingestionMs + options.maxFutureSkewMs) {
    add('ERR_TIME', 'timestamp', `${eventTimeMs - ingestionMs} ms after ingestion time`)
  } else if (eventTimeMs < ingestionMs - options.maxAgeMs) {
    add(
      'ERR_TIME',
      'timestamp',
      `${Math.round((ingestionMs - eventTimeMs) / 3_600_000)} h before ingestion time`
    )
  }

  // Device: a mobile payment must come from iOS or Android.
  if (e.payment_method === 'mobile') {
    const os = deviceOk && device ? (device as Rec).os : undefined
    if (os !== 'iOS' && os !== 'Android') {
      add(
        'ERR_DEVICE',
        'device_info.os',
        `mobile payment needs iOS or Android (got ${os === undefined ? 'none' : JSON.stringify(os)})`
      )
    }
  }

  if (issues === null) return { ok: true, event: e as unknown as PaymentEvent, eventTimeMs }
  return {
    ok: false,
    issues,
    transactionId: typeof e.transaction_id === 'string' ? e.transaction_id : null,
    customerId: typeof e.customer_id === 'string' ? e.customer_id : null,
    eventTimeMs: Number.isNaN(eventTimeMs) ? null : eventTimeMs
  }
}

/**
 * The checks of validateEvent without collecting anything (no closure, no strings): the event
 * time when the event is valid, else NaN (validateEvent then runs again to list the issues).
 * Must accept exactly what validateEvent accepts.
 */
function isValid(e: Rec, ingestionMs: number, options: ValidationOptions): number {
  if (
    !isId(e.transaction_id) ||
    !isId(e.customer_id) ||
    !isId(e.merchant_id) ||
    (e.card_id !== undefined &&
      e.card_id !== null &&
      (typeof e.card_id !== 'string' || e.card_id.length > MAX_ID_LENGTH)) ||
    !inSet(e.merchant_category, categories) ||
    !inSet(e.payment_method, methods) ||
    !inSet(e.status, statuses) ||
    !inSet(e.commission_type, commissionTypes) ||
    !inSet(e.customer_type, customerTypes) ||
    (e.failure_reason !== null &&
      e.failure_reason !== undefined &&
      !failureReasons.has(e.failure_reason as string)) ||
    !Number.isInteger(e.risk_level) ||
    (e.risk_level as number) < 1 ||
    (e.risk_level as number) > 5
  ) {
    return Number.NaN
  }
  const loc = e.location as Rec | null | undefined
  if (
    loc === null ||
    typeof loc !== 'object' ||
    !isFiniteNumber(loc.lat) ||
    !isFiniteNumber(loc.lng) ||
    Math.abs(loc.lat) > 90 ||
    Math.abs(loc.lng) > 180
  ) {
    return Number.NaN
  }
  const device = e.device_info
  const deviceOk =
    device === undefined || device === null || (typeof device === 'object' && !Array.isArray(device))
  if (!deviceOk) return Number.NaN
  const amount = e.amount
  const vat = e.vat_amount
  const commission = e.commission_amount
  const total = e.total_amount
  if (
    !isFiniteNumber(amount) ||
    !isFiniteNumber(vat) ||
    !isFiniteNumber(commission) ||
    !isFiniteNumber(total)
  ) {
    return Number.NaN
  }
  if (amount <= 0 || Math.abs(total - (amount + vat + commission)) > options.amountTolerance)
    return Number.NaN
  const ts = e.timestamp
  if (typeof ts !== 'string' && typeof ts !== 'number') return Number.NaN
  const eventTimeMs = parseTimestamp(ts)
  if (
    Number.isNaN(eventTimeMs) ||
    eventTimeMs > ingestionMs + options.maxFutureSkewMs ||
    eventTimeMs < ingestionMs - options.maxAgeMs
  ) {
    return Number.NaN
  }
  if (e.payment_method === 'mobile') {
    const os = device ? (device as Rec).os : undefined
    if (os !== 'iOS' && os !== 'Android') return Number.NaN
  }
  return eventTimeMs
}

function inSet(v: unknown, allowed: Set<string>): boolean {
  return typeof v === 'string' && allowed.has(v)
}

function fail(issues: ValidationIssue[], eventTimeMs: number | null): Validated {
  return { ok: false, issues, transactionId: null, customerId: null, eventTimeMs }
}

function checkEnum(
  e: Rec,
  field: string,
  allowed: Set<string>,
  add: (code: ValidationCode, field: string, message: string) => void
): void {
  const v = e[field]
  if (typeof v !== 'string' || !allowed.has(v)) {
    add('ERR_SCHEMA', field, `missing or not one of ${[...allowed].join(', ')}`)
  }
}

/**
 * Longest id (transaction, customer, merchant, card) accepted, in UTF-16 units: ids are keys of
 * the state and of Kafka records, so they are bounded (a UUID has 36).
 */
export const MAX_ID_LENGTH = 256

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/** Distinct codes of a failed validation, in catalogue order. */
export function issueCodes(issues: readonly ValidationIssue[]): ValidationCode[] {
  const order: readonly ValidationCode[] = VALIDATION_CODES
  return order.filter(code => issues.some(i => i.code === code))
}
