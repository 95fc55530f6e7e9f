import type { Readable } from 'node:stream'
import { readNdjsonBatches } from '../../adapters/file/index.ts'
import { outputLimits } from '../../domain/json-keys.ts'
import { decodeEventJson } from '../../domain/serde-json.ts'
import type { LogRecord } from '../../ports/log.ts'
import type { DocumentStore } from '../../ports/document-store.ts'
import { toRow, type Row, type SkipCounter, type SkipReason } from './row.ts'

/** The collection the sink writes one document per decided event to. */
export const TRANSACTIONS = 'transactions'

/**
 * What analyze reads is written by the processor (decisions, `detect --output` lines wrapping
 * them) or by the generator: parsed behind the limits of the processor's outputs.
 */
const READ_LIMITS = outputLimits()

/**
 * Decodes log records (NDJSON lines or Kafka messages) into rows; the rest is counted in `skips`
 * by reason. Each record in its own try/catch: one that fails anywhere is skipped as 'failed'.
 */
export function recordsToRows(records: readonly LogRecord[], skips: SkipCounter): Row[] {
  const rows: Row[] = []
  for (const rec of records) {
    let row: Row | SkipReason
    try {
      if (rec.value === null) row = 'not_json'
      else {
        const decoded = decodeEventJson(rec.value, READ_LIMITS)
        row = decoded.ok ? toRow(decoded.value) : decoded.limit === undefined ? 'not_json' : 'over_limits'
      }
    } catch {
      row = 'failed'
    }
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
      let row: Row | SkipReason
      try {
        row = toRow(doc)
      } catch {
        row = 'failed'
      }
      if (typeof row === 'string') skips.add(row)
      else rows.push(row)
    }
    yield rows
  }
}
