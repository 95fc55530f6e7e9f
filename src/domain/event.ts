/**
 * The payment event, DarooghePulse-compatible (SPEC section 3), plus `card_id`.
 * Records are treated as immutable once decoded.
 */
export const MERCHANT_CATEGORIES = [
  'retail',
  'food_service',
  'entertainment',
  'transportation',
  'government'
] as const
export const PAYMENT_METHODS = ['online', 'pos', 'mobile', 'nfc'] as const
export const STATUSES = ['approved', 'declined'] as const
export const FAILURE_REASONS = ['cancelled', 'insufficient_funds', 'system_error', 'fraud_prevented'] as const
export const COMMISSION_TYPES = ['flat', 'progressive', 'tiered'] as const
export const CUSTOMER_TYPES = ['individual', 'CIP', 'business'] as const
export const DEVICE_OSES = ['iOS', 'Android'] as const

export type MerchantCategory = (typeof MERCHANT_CATEGORIES)[number]
export type PaymentMethod = (typeof PAYMENT_METHODS)[number]
export type Status = (typeof STATUSES)[number]
export type FailureReason = (typeof FAILURE_REASONS)[number]
export type CommissionType = (typeof COMMISSION_TYPES)[number]
export type CustomerType = (typeof CUSTOMER_TYPES)[number]

export interface GeoPoint {
  lat: number
  lng: number
}

export interface DeviceInfo {
  os?: string
  app_version?: string
  device_model?: string
}

/** The event as it travels on the wire (JSON or Avro). */
export interface PaymentEvent {
  transaction_id: string
  /** ISO-8601 UTC string; epoch seconds or milliseconds (number) also accepted on input. */
  timestamp: string | number
  customer_id: string
  card_id: string
  merchant_id: string
  merchant_category: MerchantCategory
  payment_method: PaymentMethod
  /** Integer Rial. */
  amount: number
  location: GeoPoint
  device_info: DeviceInfo
  status: Status
  failure_reason: FailureReason | null
  commission_type: CommissionType
  commission_amount: number
  vat_amount: number
  total_amount: number
  customer_type: CustomerType
  risk_level: number
}

/**
 * Error codes of an error record: the validation codes of SPEC section 5.1, ERR_INTERNAL for
 * a record the processor itself failed on (a bug), and ERR_UNDECODABLE_BATCH for a record batch
 * of the input topic that the consumer could not decode (one error record per batch), routed
 * like any other so that nothing stops the stream.
 */
export const VALIDATION_CODES = [
  'ERR_SCHEMA',
  'ERR_AMOUNT',
  'ERR_TIME',
  'ERR_DEVICE',
  'ERR_INTERNAL',
  'ERR_UNDECODABLE_BATCH'
] as const
export type ValidationCode = (typeof VALIDATION_CODES)[number]

/** Ground-truth labels of the generator; they travel in a header / labels file, never in the payload. */
export const SCENARIO_LABELS = [
  'legit',
  'velocity',
  'impossible_travel',
  'amount_anomaly',
  'new_location_large_amount',
  'invalid_amount',
  'invalid_time_future',
  'invalid_time_old',
  'invalid_device',
  'invalid_schema',
  'malformed_json'
] as const
export type ScenarioLabel = (typeof SCENARIO_LABELS)[number]

/** Header name carrying the label on Kafka records. */
export const LABEL_HEADER = 'darooghe-label'
/** Header name carrying the scenario id on Kafka records. */
export const SCENARIO_HEADER = 'darooghe-scenario'
