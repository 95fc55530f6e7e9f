import { isUtf8 } from 'node:buffer'
import { checkKeys } from '../../domain/json-keys.ts'
import { DEFAULT_LIMITS, parseJsonWithin, type LimitName, type RecordLimits } from '../../domain/limits.ts'
import { describeError, isRetriable } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import { UndecodableBatchRecord } from '../../ports/log.ts'

/**
 * How a reader that did not write its records (dispatch, windows, store, the live view) keeps
 * one record from stopping it: every record is parsed behind the record limits, checked for its
 * shape, and processed inside its own try/catch; whatever fails there becomes a rejection with
 * the record's coordinates and a reason, counted, and the batch goes on. Only retriable errors
 * (a service down: Redis, MongoDB, Kafka) leave the record's catch, so that the batch is
 * retried as a whole and nothing is committed past it.
 */

/** Why a record was rejected, as counted in logs and metrics (a closed set: bounded labels). */
export type RejectKind =
  | LimitName
  | 'no_value'
  | 'not_utf8'
  | 'not_json'
  | 'not_object'
  | 'duplicate_key'
  | 'forbidden_key'
  | 'shape'
  | 'refused'
  | 'failed'
  /** A whole record batch the consumer could not decode (ports/log.ts UndecodableBatchRecord). */
  | 'undecodable_batch'

/** Where a record sits in its log. */
export interface RecordCoordinates {
  readonly topic: string
  readonly partition: number
  readonly offset: number
}

export interface Rejection extends RecordCoordinates {
  readonly kind: RejectKind
  /** One line for a person. */
  readonly reason: string
}

/** Thrown by a reader's shape check: the record is not what the topic carries. */
export class RecordFault extends Error {
  readonly kind: RejectKind

  constructor(kind: RejectKind, message: string) {
    super(message)
    this.name = 'RecordFault'
    this.kind = kind
  }
}

export interface ParseObjectOptions {
  /** Default DEFAULT_LIMITS. */
  readonly limits?: RecordLimits
  /**
   * 'reject' (default): a key twice in one object is refused. 'last-wins': the decision topics,
   * whose records are the event's own text with the decision fields appended, so an event that
   * carried one of those names holds it twice and the last one (the processor's) counts.
   */
  readonly duplicateKeys?: 'reject' | 'last-wins'
}

/**
 * A record's value as a JSON object, or the RecordFault saying why it is not one: no value,
 * not UTF-8, beyond a limit, not JSON, not an object, a duplicate or a `__proto__` key. The
 * limits are checked on the bytes before anything parses them. Never throws anything else.
 */
export function parseRecordObject(
  value: Uint8Array | null,
  options: ParseObjectOptions = {}
): Record<string, unknown> {
  if (value === null || value.length === 0) throw new RecordFault('no_value', 'the record has no value')
  const limits = options.limits ?? DEFAULT_LIMITS
  // JSON.parse would replace bad bytes with U+FFFD: the record would be read (and stored) changed.
  if (value.length <= limits.maxEventBytes && !isUtf8(value)) {
    throw new RecordFault('not_utf8', 'not UTF-8: the value holds invalid byte sequences')
  }
  const parsed = parseJsonWithin(value, limits)
  if (!parsed.ok) throw new RecordFault(parsed.limit ?? 'not_json', parsed.error)
  const v = parsed.value
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RecordFault('not_object', `not a JSON object (a ${Array.isArray(v) ? 'array' : typeName(v)})`)
  }
  const keys = checkKeys(value, { duplicates: options.duplicateKeys ?? 'reject', parsed: v })
  if (keys !== null) throw new RecordFault(keys.kind, keys.message)
  return v as Record<string, unknown>
}

function typeName(v: unknown): string {
  return v === null ? 'null' : typeof v
}

/** The rejection of `record` for `error`: a RecordFault's kind, or 'failed' for anything else. */
export function rejectionOf(record: RecordCoordinates, error: unknown): Rejection {
  const coordinates = { topic: record.topic, partition: record.partition, offset: record.offset }
  if (error instanceof RecordFault) return { ...coordinates, kind: error.kind, reason: error.message }
  return { ...coordinates, kind: 'failed', reason: `failed: ${oneLine(describeError(error))}` }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ')
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

/**
 * Runs `work` for each record in its own try/catch. A throw that is not retriable rejects that
 * record (`reject` is called with why) and the loop goes on; a retriable one (a service down)
 * propagates, so that the caller's batch is retried whole and not committed.
 */
export function forEachRecord<R extends RecordCoordinates>(
  records: readonly R[],
  work: (record: R) => void,
  reject: (rejection: Rejection, record: R) => void
): void {
  for (const r of records) {
    if (r instanceof UndecodableBatchRecord) {
      const b = r.batch
      const reason = `record batch at offsets ${b.baseOffset}-${b.lastOffset} (compression ${b.codec}) could not be decoded: ${b.reason}: ${b.cause}`
      reject(
        { topic: r.topic, partition: r.partition, offset: r.offset, kind: 'undecodable_batch', reason },
        r
      )
      continue
    }
    try {
      work(r)
    } catch (error) {
      if (isRetriable(error)) throw error
      reject(rejectionOf(r, error), r)
    }
  }
}

export interface RejectCounterOptions {
  readonly log: Logger
  /** Which reader, in the log lines (`dispatch`, `windows`...). */
  readonly reader: string
  /** Rejections logged one by one; after that, one line per `summaryEvery`. Default 100. */
  readonly maxWarnings?: number
  /** Default 1,000. */
  readonly summaryEvery?: number
  /** Each rejection (metrics). */
  readonly onReject?: (rejection: Rejection) => void
}

/**
 * Counts rejections by kind and logs them: one warning per record (coordinates and reason) up
 * to `maxWarnings`, then one summary line every `summaryEvery` rejections, so that a flood of
 * bad records cannot flood the log.
 */
export class RejectCounter {
  total = 0
  /** kind → count. A null prototype: kinds are a closed set, but counts are never looked up on Object.prototype. */
  readonly byKind: Partial<Record<RejectKind, number>> = Object.create(null) as Partial<
    Record<RejectKind, number>
  >
  readonly #o: RejectCounterOptions

  constructor(options: RejectCounterOptions) {
    this.#o = options
  }

  add(r: Rejection): void {
    this.total++
    this.byKind[r.kind] = (this.byKind[r.kind] ?? 0) + 1
    this.#o.onReject?.(r)
    const max = this.#o.maxWarnings ?? 100
    if (this.total <= max) {
      this.#o.log.warn(
        {
          reader: this.#o.reader,
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          kind: r.kind,
          reason: r.reason
        },
        this.total === max ? 'record rejected (further rejections are summarised)' : 'record rejected'
      )
    } else if ((this.total - max) % (this.#o.summaryEvery ?? 1_000) === 0) {
      this.#o.log.warn(
        { reader: this.#o.reader, rejected: this.total, byKind: { ...this.byKind } },
        'records rejected'
      )
    }
  }

  toJSON(): { total: number; by_kind: Record<string, number> } {
    return { total: this.total, by_kind: { ...this.byKind } }
  }
}
