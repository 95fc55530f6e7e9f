import type { DocumentStore } from '../../ports/document-store.ts'
import { Analysis, type AnalyticsResults } from './analysis.ts'
import type { AnalyticsReport } from './report/types.ts'
import type { Row } from './row.ts'

/** Feeds every batch of a source to the aggregates; `onProgress` gets the rows so far. */
export async function analyse(
  batches: AsyncIterable<readonly Row[]>,
  onProgress?: (rows: number) => void
): Promise<{ results: AnalyticsResults; rows: number }> {
  const analysis = new Analysis()
  for await (const batch of batches) {
    analysis.addBatch(batch)
    onProgress?.(analysis.rows)
  }
  return { results: analysis.results(), rows: analysis.rows }
}

/** The collection of each report; one document per run in each, `_id` = run id. */
export const RESULT_COLLECTIONS = {
  analytics_summary: (r: AnalyticsResults) => ({ summary: r.summary, fraud: r.fraud }),
  analytics_commission: (r: AnalyticsResults) => r.commission,
  analytics_temporal: (r: AnalyticsResults) => r.temporal,
  analytics_segments: (r: AnalyticsResults) => r.segments,
  analytics_merchants: (r: AnalyticsResults) => r.merchants,
  analytics_users: (r: AnalyticsResults) => r.users
} as const

/** Stores each report of a run in its own collection with the run's parameters and time. */
export async function storeResults(store: DocumentStore, report: AnalyticsReport): Promise<void> {
  const { run } = report
  const createdAt = new Date(run.created_at)
  await Promise.all(
    Object.entries(RESULT_COLLECTIONS).map(async ([collection, pick]) => {
      await store.ensureIndexes(collection, [{ keys: { created_at: -1 }, name: 'created_at' }])
      await store.upsertMany(collection, [
        {
          _id: run.id,
          created_at: createdAt,
          source: run.source,
          range: run.range,
          rows: run.rows,
          skipped: run.skipped,
          result: pick(report.results)
        }
      ])
    })
  )
}
