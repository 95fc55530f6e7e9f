import type { LatencyPoint, Percentiles, SecondPoint } from './series.ts'

/** Names of the topics the live view reads. */
export interface LiveTopics {
  /** Default 'darooghe.transactions.approved'. */
  readonly approved: string
  /** Default 'darooghe.transactions.fraud'. */
  readonly fraud: string
  /** Default 'darooghe.fraud_alerts'. */
  readonly alerts: string
  /** Default 'darooghe.analytics'. */
  readonly analytics: string
}

export const DEFAULT_LIVE_TOPICS: LiveTopics = Object.freeze({
  approved: 'darooghe.transactions.approved',
  fraud: 'darooghe.transactions.fraud',
  alerts: 'darooghe.fraud_alerts',
  analytics: 'darooghe.analytics'
})

/** An alert as published on the alerts topic (see src/domain/decision.ts); other fields kept. */
export interface LiveAlert {
  readonly alert_id: string
  readonly created_at: string
  readonly severity: string
  readonly customer_id: string
  readonly transaction_id: string
  readonly risk_score: number
  readonly rules_fired: readonly string[]
  readonly trace: Readonly<Record<string, unknown>>
  readonly [field: string]: unknown
}

/** A window aggregate of `darooghe.analytics`, as the windows stage publishes it. */
export interface WindowAggregate {
  readonly window_id: string
  readonly kind: string
  readonly window_start: string
  readonly window_end: string
  readonly [field: string]: unknown
}

export interface Totals {
  events: number
  approved: number
  fraud: number
  alerts: number
  windows: number
  /** Records that were not JSON or lacked the fields we read. */
  skipped: number
}

/** What `/api/overview` serves: totals, the current rates and the time series. */
export interface Overview {
  readonly now: string
  readonly started_at: string
  readonly totals: Totals
  /** Over the last 10 seconds. */
  readonly rates: {
    readonly events_per_s: number
    readonly fraud_per_s: number
    readonly alerts_per_s: number
  }
  /** Fraud decisions / decisions over the last 60 s (0 when none). */
  readonly fraud_rate_60s: number
  /** End-to-end latency (read time − event_time) and processing_latency_ms, last 60 s. */
  readonly latency_60s: { readonly end_to_end: Percentiles; readonly processing: Percentiles }
  readonly series: {
    /** One point per second, the last ~10 minutes. */
    readonly throughput: readonly SecondPoint[]
    /** One point per latency slot (10 s). */
    readonly latency: readonly LatencyPoint[]
    /** Fraud rate per 10 s slot; null where no decision was read. */
    readonly fraud_rate: readonly { readonly t: number; readonly rate: number | null }[]
  }
  /** Seconds since the last decision was read; null before the first. */
  readonly idle_s: number | null
}

export interface Analytics {
  readonly sliding_1m: readonly WindowAggregate[]
  readonly tumbling_5m: readonly WindowAggregate[]
}
