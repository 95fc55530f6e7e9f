import type { Doc } from '../../ports/document-store.ts'
import type { LogRecord } from '../../ports/log.ts'
import { COLLECTIONS, type StoreTopics } from './options.ts'

/** A document bound for a collection. */
export interface Placed {
  readonly collection: string
  readonly doc: Doc
}

type Json = Record<string, unknown>

/** Why a record cannot be stored: it goes to `store_rejects` with its bytes. */
export class RejectReason extends Error {}

/** Fields the processor appends to the event on the decision topics (src/domain/decision.ts). */
const DECISION_ONLY = new Set(['trace', 'processing_latency_ms', 'source'])

/**
 * Maps each topic to the function that turns one of its records into documents. Every document
 * is a pure function of the record (no clock, no counter): a replayed record rewrites the same
 * document, which is what makes the at-least-once sink idempotent.
 */
export function documentMapper(topics: StoreTopics): (record: LogRecord) => Placed[] {
  const byTopic = new Map<string, (v: Json, r: LogRecord) => Placed[]>([
    [topics.approved, decisionDocs],
    [topics.fraud, decisionDocs],
    [topics.alerts, alertDocs],
    [topics.errors, errorDocs],
    [topics.late, lateDocs],
    [topics.analytics, windowDocs]
  ])
  return record => {
    const map = byTopic.get(record.topic)
    if (!map) throw new RejectReason(`no mapping for topic '${record.topic}'`)
    return map(parseObject(record), record)
  }
}

/** The reject document of a record that could not be mapped: its coordinates, bytes and why. */
export function rejectDoc(record: LogRecord, reason: string): Placed {
  return {
    collection: COLLECTIONS.rejects,
    doc: {
      _id: recordId(record),
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: new Date(record.timestamp),
      key_base64: record.key?.toString('base64') ?? null,
      value_base64: record.value?.toString('base64') ?? null,
      headers: { ...record.headers },
      reason
    }
  }
}

function recordId(r: { topic: string; partition: number; offset: number }): string {
  return `${r.topic}:${r.partition}:${r.offset}`
}

function parseObject(record: LogRecord): Json {
  if (record.value === null) throw new RejectReason('the record has no value')
  let v: unknown
  try {
    v = JSON.parse(record.value.toString('utf8'))
  } catch (error) {
    throw new RejectReason(`not JSON: ${(error as Error).message}`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RejectReason('not a JSON object')
  return v as Json
}

function id(v: Json, field: string): string {
  const x = v[field]
  if (typeof x !== 'string' || x === '') throw new RejectReason(`no ${field} (a non-empty string)`)
  return x
}

function date(v: Json, field: string): Date {
  const x = v[field]
  const d = typeof x === 'string' || typeof x === 'number' ? new Date(x) : null
  if (!d || Number.isNaN(d.getTime()))
    throw new RejectReason(`${field} is not a time (got ${JSON.stringify(x)})`)
  return d
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
    throw new RejectReason(`decision is not fraud or approved (got ${JSON.stringify(decision)})`)
  }
  const eventTime = date(v, 'event_time')
  const processedAt = date(v, 'processed_at')
  const tx: Record<string, unknown> = { _id }
  for (const k in v) if (!DECISION_ONLY.has(k) && k !== '_id') tx[k] = v[k]
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
