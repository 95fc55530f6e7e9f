import type { AnalyticsResults } from '../analysis.ts'

/** Where a run read its rows from, for the report and the stored results. */
export interface RunSource {
  readonly kind: 'file' | 'kafka' | 'mongo' | 'memory'
  /** File path, topic name, or database. */
  readonly name: string
}

export interface RunInfo {
  /** Unique per run: `_id` of the run's document in every analytics collection. */
  readonly id: string
  readonly created_at: string
  readonly source: RunSource
  /** Bounds of event time (mongo) or the start timestamp (kafka), ISO; absent = unbounded. */
  readonly range: { readonly from?: string; readonly to?: string }
  readonly rows: number
  readonly skipped: { readonly total: number; readonly by_reason: Readonly<Record<string, number>> }
  readonly seconds: number
}

/** report.json: the run and every number of the report. */
export interface AnalyticsReport {
  readonly run: RunInfo
  readonly results: AnalyticsResults
}
