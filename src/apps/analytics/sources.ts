import type { Readable } from 'node:stream'
import { readNdjsonBatches } from '../../adapters/file/index.ts'
import { decodeEventJson } from '../../domain/serde-json.ts'
import type { LogRecord } from '../../ports/log.ts'
import type { DocumentStore } from '../../ports/document-store.ts'
import { toRow, type Row, type SkipCounter } from './row.ts'

/** The collection the sink writes one document per decided event to. */
export const TRANSACTIONS = 'transactions'

/** Decodes log records (NDJSON lines or Kafka messages) into rows; the rest is counted in `skips`. */
export function recordsToRows(records: readonly LogRecord[], skips: SkipCounter): Row[] {
  const rows: Row[] = []
  for (const rec of records) {
    if (rec.value === null) {
      skips.add('not_json')
      continue
    }
    const decoded = decodeEventJson(rec.value)
    const row = decoded.ok ? toRow(decoded.value) : 'not_json'
    if (typeof row === 'string') skips.add(row)
    else rows.push(row)
  }
  return rows
}

/** Rows of an NDJSON stream: generator output, decision records, or `detect --output` lines. */
export async function* ndjsonRows(
  input: Readable,
  skips: SkipCounter,
  batchSize = 10_000
): AsyncGenerator<Row[]> {
  for await (const batch of readNdjsonBatches(input, { batchSize, timestamp: 0 })) {
    yield recordsToRows(batch, skips)
  }
}

/** Rows from batches of log records (the Kafka range reader). */
export async function* logRows(
  batches: AsyncIterable<readonly LogRecord[]>,
  skips: SkipCounter
): AsyncGenerator<Row[]> {
  for await (const batch of batches) yield recordsToRows(batch, skips)
}

/** Rows of the `transactions` collection, optionally with event_time in [from, to). */
export async function* storeRows(
  store: DocumentStore,
  skips: SkipCounter,
  range: { from?: Date; to?: Date } = {}
): AsyncGenerator<Row[]> {
  const options = { field: 'event_time', batchSize: 5_000, ...range }
  for await (const docs of store.scan(TRANSACTIONS, options)) {
    const rows: Row[] = []
    for (const doc of docs) {
      const row = toRow(doc)
      if (typeof row === 'string') skips.add(row)
      else rows.push(row)
    }
    yield rows
  }
}
