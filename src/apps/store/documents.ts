import { outputLimits } from '../../domain/json-keys.ts'
import { DEFAULT_LIMITS, truncatedBase64, type RecordLimits } from '../../domain/limits.ts'
import type { Doc } from '../../ports/document-store.ts'
import type { LogRecord } from '../../ports/log.ts'
import {
  parseRecordObject,
  RecordFault,
  type ParseObjectOptions,
  type RejectKind
} from '../guard/record-guard.ts'
import { COLLECTIONS, type StoreTopics } from './options.ts'

/** A document bound for a collection. */
export interface Placed {
  readonly collection: string
  readonly doc: Doc
}

type Json = Record<string, unknown>

/** Why a record cannot be stored: it goes to `store_rejects` with its bytes. */
export class RejectReason extends RecordFault {
  constructor(message: string) {
    super('shape', message)
  }
}

/** Largest value kept (as base64) in a reject document: Kafka's default largest message. */
export const REJECT_VALUE_BYTES = 1 << 20

/** Fields the processor appends to the event on the decision topics (src/domain/decision.ts). */
const DECISION_ONLY = new Set(['trace', 'processing_latency_ms', 'source'])

/**
 * Maps each topic to the function that turns one of its records into documents. Every document
 * is a pure function of the record (no clock, no counter): a replayed record rewrites the same
 * document, which is what makes the at-least-once sink idempotent.
 */
export function documentMapper(
  topics: StoreTopics,
  limits: RecordLimits = DEFAULT_LIMITS
): (record: LogRecord) => Placed[] {
  // Alerts are small and never carry the event; the other topics carry an input record inside.
  const outputs: ParseObjectOptions = { limits: outputLimits(limits) }
  // Decisions are the event's own text plus the decision fields: the last of a repeated key is ours.
  const decisions: ParseObjectOptions = { limits: outputLimits(limits), duplicateKeys: 'last-wins' }
  const byTopic = new Map<string, [ParseObjectOptions, (v: Json, r: LogRecord) => Placed[]]>([
    [topics.approved, [decisions, decisionDocs]],
    [topics.fraud, [decisions, decisionDocs]],
    [topics.alerts, [{ limits }, alertDocs]],
    [topics.errors, [outputs, errorDocs]],
    [topics.late, [outputs, lateDocs]],
    [topics.analytics, [outputs, windowDocs]]
  ])
  return record => {
    const entry = byTopic.get(record.topic)
    if (!entry) throw new RejectReason(`no mapping for topic '${record.topic}'`)
    return entry[1](parseRecordObject(record.value, entry[0]), record)
  }
}

/** The reject document of a record that could not be mapped: its coordinates, bytes and why. */
export function rejectDoc(record: LogRecord, reason: string, kind: RejectKind = 'shape'): Placed {
  const value = record.value === null ? null : truncatedBase64(record.value, REJECT_VALUE_BYTES)
  const timestamp = new Date(record.timestamp)
  return {
    collection: COLLECTIONS.rejects,
    doc: {
      _id: recordId(record),
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: Number.isNaN(timestamp.getTime()) ? null : timestamp,
      key_base64: record.key === null ? null : truncatedBase64(record.key, REJECT_VALUE_BYTES).base64,
      value_base64: value?.base64 ?? null,
      value_bytes: record.value?.length ?? null,
      ...(value?.truncated ? { value_truncated: true } : {}),
      // A list, not an object: a header named `$where`, `a.b` or `__proto__` is a value here,
      // never a field name MongoDB (or a prototype) could refuse or misread.
      headers: Object.entries(record.headers).map(([name, value]) => ({ name, value })),
      kind,
      reason
    }
  }
}

function recordId(r: { topic: string; partition: number; offset: number }): string {
  return `${r.topic}:${r.partition}:${r.offset}`
}

/** Longest id kept as an `_id` (the processor's ids have at most 256 characters). */
const MAX_ID = 1024

function id(v: Json, field: string): string {
  const x = v[field]
  if (typeof x !== 'string' || x === '' || x.length > MAX_ID)
    throw new RejectReason(`no ${field} (a non-empty string of at most ${MAX_ID} characters)`)
  return x
}

function date(v: Json, field: string): Date {
  const x = v[field]
  const d = typeof x === 'string' || typeof x === 'number' ? new Date(x) : null
  if (!d || Number.isNaN(d.getTime())) throw new RejectReason(`${field} is not a time (got ${shown(x)})`)
  return d
}

/** A value in a reason: JSON, at most 80 characters of it. */
function shown(x: unknown): string {
  const text = JSON.stringify(x) ?? String(x)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

/** A time when the field holds one; the field's own value otherwise (it is kept as sent). */
function maybeDate(v: Json, field: string): unknown {
  const x = v[field]
  if (typeof x !== 'string') return x
  const d = new Date(x)
  return Number.isNaN(d.getTime()) ? x : d
}

/** A decision record (the event + decision fields) → `transactions` and `decisions`. */
function decisionDocs(v: Json): Placed[] {
  const _id = id(v, 'transaction_id')
  const decision = v.decision
  if (decision !== 'fraud' && decision !== 'approved') {
    throw new RejectReason(`decision is not fraud or approved (got ${shown(decision)})`)
  }
  const eventTime = date(v, 'event_time')
  const processedAt = date(v, 'processed_at')
  // Spread (own data properties), never `tx[k] = v[k]`: a `__proto__` key would set tx's prototype.
  const tx: Record<string, unknown> = { _id, ...v }
  tx._id = _id
  for (const k of DECISION_ONLY) delete tx[k]
  tx.event_time = eventTime
  tx.day = eventTime.toISOString().slice(0, 10)
  tx.processed_at = processedAt
  const doc: Doc = {
    _id,
    decision,
    risk_score: v.risk_score,
    rules_fired: v.rules_fired,
    trace: v.trace,
    processing_latency_ms: v.processing_latency_ms,
    event_time: eventTime,
    processed_at: processedAt,
    customer_id: v.customer_id,
    merchant_id: v.merchant_id,
    amount: v.amount,
    source: v.source
  }
  return [
    { collection: COLLECTIONS.transactions, doc: tx as Doc },
    { collection: COLLECTIONS.decisions, doc }
  ]
}

function alertDocs(v: Json): Placed[] {
  const _id = id(v, 'alert_id')
  const doc = { ...v, _id, created_at: date(v, 'created_at'), event_time: maybeDate(v, 'event_time') }
  return [{ collection: COLLECTIONS.alerts, doc }]
}

/** Keyed by the source record's coordinates: an event can fail validation without any id. */
function errorDocs(v: Json, r: LogRecord): Placed[] {
  const s = v.source as { topic?: unknown; partition?: unknown; offset?: unknown } | null | undefined
  const _id =
    s && typeof s.topic === 'string' && Number.isInteger(s.partition) && Number.isInteger(s.offset)
      ? recordId(s as { topic: string; partition: number; offset: number })
      : recordId(r)
  const doc = {
    ...v,
    _id,
    ingestion_time: maybeDate(v, 'ingestion_time'),
    processed_at: maybeDate(v, 'processed_at')
  }
  return [{ collection: COLLECTIONS.validationErrors, doc }]
}

function lateDocs(v: Json): Placed[] {
  const doc = {
    ...v,
    _id: id(v, 'transaction_id'),
    event_time: date(v, 'event_time'),
    watermark: maybeDate(v, 'watermark'),
    ingestion_time: maybeDate(v, 'ingestion_time'),
    processed_at: maybeDate(v, 'processed_at')
  }
  return [{ collection: COLLECTIONS.lateEvents, doc }]
}

function windowDocs(v: Json): Placed[] {
  const doc = {
    ...v,
    _id: id(v, 'window_id'),
    window_start: date(v, 'window_start'),
    window_end: maybeDate(v, 'window_end')
  }
  return [{ collection: COLLECTIONS.analyticsWindows, doc }]
}
