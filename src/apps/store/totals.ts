/** What the store did, for the progress line and the final report. */
export interface StoreTotals {
  /** Records consumed and stored (or rejected). */
  records: number
  /** Poll batches stored. */
  batches: number
  /** Documents written per collection (a replayed record counts again: it was rewritten). */
  documents: Record<string, number>
  /** Records (or documents) that could not be stored as such and went to `store_rejects`. */
  rejects: number
  /** Failed writes that were tried again (outages), over all collections. */
  retries: number
}

export function emptyStoreTotals(): StoreTotals {
  return { records: 0, batches: 0, documents: {}, rejects: 0, retries: 0 }
}
