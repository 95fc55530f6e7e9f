/** An alert as the processor publishes it on `darooghe.fraud_alerts`. */
export interface Alert {
  readonly alert_id: string
  readonly created_at: string
  readonly severity: string
  readonly customer_id: string
  readonly transaction_id: string
  readonly risk_score: number
  readonly rules_fired: readonly string[]
  readonly trace: Readonly<Record<string, unknown>>
  readonly decision: string
  readonly [field: string]: unknown
}

/**
 * Where alerts go (file, HTTP endpoint, chat webhook). `deliver` rejects with a retriable
 * DaroogheError for failures worth retrying (timeouts, 5xx, 429) and a non-retriable one for
 * the others (4xx); `flush` makes everything delivered so far durable (e.g. fsync).
 */
export interface AlertSink {
  readonly name: string
  deliver(alert: Alert): Promise<void>
  flush?(): Promise<void>
  close?(): Promise<void>
}
