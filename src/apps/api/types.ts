import type { Logger } from '../../logger.ts'
import type { DependencyHealth } from '../../observability/dependencies.ts'
import type { Metrics } from '../../observability/metrics.ts'
import type { LiveView, TopicBrowser } from '../live/index.ts'
import type { DecisionService } from './decision-service.ts'

/** An alert as the processor emits it on `darooghe.fraud_alerts` (see src/domain/decision.ts). */
export interface StoredAlert {
  alert_id: string
  created_at: string
  severity: string
  customer_id: string
  transaction_id: string
  risk_score: number
  rules_fired: string[]
  trace: Record<string, unknown>
  decision: string
  /** Other fields the processor adds (merchant_id, amount, event_time, ...) are kept as sent. */
  [extra: string]: unknown
}

export interface AlertQuery {
  customer_id?: string
  /** Only alerts whose rules_fired contains this rule. */
  rule?: string
  /** created_at >= from (epoch ms). */
  fromMs?: number
  /** created_at < to (epoch ms). */
  toMs?: number
  /** Page size (1..500). */
  limit: number
  /** Opaque: continue after the last alert of the previous page. */
  cursor?: string
}

export interface AlertPage {
  alerts: StoredAlert[]
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null
}

/**
 * Where received alerts are kept. The API only needs add (with dedupe by alert_id) and a
 * newest-first filtered page; a MongoDB adapter can implement the same interface.
 */
export interface AlertStore {
  /** false when an alert with that alert_id is already stored (a redelivery). */
  add(alert: StoredAlert): Promise<boolean>
  query(q: AlertQuery): Promise<AlertPage>
  size(): Promise<number>
}

/** A dependency probe: resolves true when the service answers. Rejections and timeouts count as down. */
export type HealthCheck = () => Promise<boolean>

export interface HealthChecks {
  kafka?: HealthCheck
  redis?: HealthCheck
  mongo?: HealthCheck
}

/** Totals and rates for `/api/stats` and the SSE `stats` event; any JSON object. */
export type StatsProvider = () => Promise<Record<string, unknown>> | Record<string, unknown>

export interface ApiDeps {
  /** Prometheus metrics served on /metrics. */
  readonly metrics: Metrics
  /** Default: a MemoryAlertStore of 10 000 alerts. */
  readonly alertStore?: AlertStore
  /** Probes reported by /health; a missing one is not reported. */
  readonly health?: HealthChecks
  /**
   * What the process's own retries know: a dependency with an operation retrying against it
   * is reported down (status `degraded`), with the operations, since when and the last error.
   */
  readonly dependencies?: DependencyHealth
  /** Served by /api/stats and pushed on the stream. Default: alert counts of this API only. */
  readonly stats?: StatsProvider
  /** When set, POST /alerts and /v1/decisions need `Authorization: Bearer <token>`. Never logged. */
  readonly alertToken?: string
  /** Answers POST and GET /v1/decisions (started by the caller); without it they answer 503. */
  readonly decisions?: DecisionService
  /** Default silentLogger. */
  readonly logger?: Logger
  /** Request body limit in bytes. Default 256 KiB. */
  readonly bodyLimit?: number
  /** Timeout of each health probe, ms. Default 2000. */
  readonly healthTimeoutMs?: number
  /** SSE heartbeat comment interval, ms. Default 15 000. */
  readonly heartbeatMs?: number
  /** SSE stats event interval, ms. Default 5000. */
  readonly statsIntervalMs?: number
  /** Wall clock (uptime in /health). Default Date.now. */
  readonly now?: () => number
  /** Feeds /api/overview, /api/analytics, /api/alerts[/:id] and /api/live/stream; without it they answer 503. */
  readonly live?: LiveView
  /** Feeds /api/topics and /api/topics/:name/messages; without it they answer 503. */
  readonly topics?: TopicBrowser
  /** Serve the dashboard at `/` (true: web/dashboard of this package; a string: that folder). Default false. */
  readonly dashboard?: boolean | string
  /** The batch report: the latest one in `dir` at /reports/latest; `run` makes POST /api/reports start one. */
  readonly reports?: ReportsDeps
  /** Interval of the overview pushed on /api/live/stream, ms. Default 1000. */
  readonly liveIntervalMs?: number
}

export interface ReportsDeps {
  readonly dir: string
  /** Runs the batch analytics over the stored history and writes the report to `dir`. */
  readonly run?: () => Promise<{ id: string; rows: number }>
}
