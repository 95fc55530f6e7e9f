import { randomUUID } from 'node:crypto'
import type { DocumentStore } from '../../ports/document-store.ts'
import { SkipCounter } from './row.ts'
import { analyse, storeResults } from './run.ts'
import { storeRows } from './sources.ts'
import type { RunSource } from './report/types.ts'
import { writeReport } from './report/write.ts'

export interface HistoryReportOptions {
  /** Where report.html and report.json go (no PNGs: the page itself is the report). */
  readonly dir: string
  /** How the source is named in the report, e.g. `{ kind: 'memory', name: 'demo' }`. */
  readonly source: RunSource
}

/**
 * The batch analytics over a document store's `transactions` (the demo's embedded store, or
 * MongoDB), written to `dir` and stored back in the same store: what `darooghe analyze --mongo
 * --out DIR` does, callable from a running process such as the demo's API.
 */
export async function reportFromStore(
  store: DocumentStore,
  options: HistoryReportOptions
): Promise<{ id: string; rows: number }> {
  const started = performance.now()
  const skips = new SkipCounter()
  const { results, rows } = await analyse(storeRows(store, skips))
  const id = `analyze-${new Date().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 6)}`
  const report = {
    run: {
      id,
      created_at: new Date().toISOString(),
      source: options.source,
      range: {},
      rows,
      skipped: skips.toJSON(),
      seconds: (performance.now() - started) / 1000
    },
    results
  }
  await writeReport(options.dir, report, { chromiumPath: null })
  await storeResults(store, report)
  return { id, rows }
}
