/**
 * Where history is kept (SPEC section 8): transactions, decisions, alerts, validation errors,
 * window aggregates and batch reports, one collection each. Implemented by MongoDB and by the
 * embedded in-memory store; both honour the same contract, checked by one conformance suite.
 *
 * Writes are idempotent upserts keyed by `_id` (a redelivered batch rewrites the same
 * documents and changes nothing), unordered, and batched: one call is one round trip per
 * chunk of documents, never one per document.
 */
export interface Doc {
  readonly _id: string
  readonly [field: string]: unknown
}

export interface IndexSpec {
  /** Fields and directions, in order, e.g. `{ customer_id: 1, event_time: -1 }`. */
  readonly keys: Readonly<Record<string, 1 | -1>>
  readonly name?: string
}

export interface ScanOptions {
  /** Range field; `from`/`to` bound it as [from, to). Default: every document. */
  readonly field?: string
  readonly from?: Date
  readonly to?: Date
  /** Documents per yielded batch. Default 1000. */
  readonly batchSize?: number
}

export interface DocumentStore {
  /** Insert or replace each document by `_id`; unordered. Resolves when all are durable. */
  upsertMany(collection: string, docs: readonly Doc[]): Promise<void>
  /** Documents of a collection in batches (by `_id` order when no range field is given). */
  scan(collection: string, options?: ScanOptions): AsyncIterable<Doc[]>
  count(collection: string): Promise<number>
  /** Creates the indexes if missing (idempotent). */
  ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void>
  /** Whether the store answers (for /health). */
  ping(): Promise<boolean>
  close(): Promise<void>
}
