import type { PaymentEvent, ValidationCode } from './event.ts'
import { encodeFields } from './rules/evaluators.ts'
import type { RuleTrace } from './rules/types.ts'
import { severityOf, type Severity } from './scoring.ts'
import type { ValidationIssue } from './validate.ts'

/**
 * The records the processor emits (SPEC 5.5), encoded to JSON text. Encoders build strings
 * directly: they run once per event on the hot path, and re-emits after a crash must be byte
 * for byte the same, which holds because every input (times included) is passed in.
 *
 * Payload on the approved and fraud topics: the ORIGINAL event, byte for byte as received,
 * with the decision fields appended (`event_time, decision, risk_score, rules_fired, trace,
 * [late, lateness_ms,] processing_latency_ms, processed_at, source`); together with the event's own
 * transaction_id, customer_id, merchant_id and amount this is the full `Decision`. An event
 * that arrived with one of those field names keeps its value in the text, but JSON parsers
 * keep the last occurrence, which is ours. `late` and `lateness_ms` are appended to a late
 * decision only, so an on-time event that carries fields of those names is read with them.
 */
export interface Decision {
  transaction_id: string
  customer_id: string
  merchant_id: string
  amount: number
  /** ISO-8601 UTC. */
  event_time: string
  decision: 'fraud' | 'approved'
  risk_score: number
  rules_fired: string[]
  trace: Record<string, RuleTrace>
  /** Only on a late decision: the event time is behind the customer's latest by more than the allowed lateness. */
  late?: true
  /** Only on a late decision: the customer's latest event time − this event's, ms. */
  lateness_ms?: number
  processing_latency_ms: number
  processed_at: string
  source: Source
}

export interface Source {
  topic: string
  partition: number
  offset: number
}

export interface Alert {
  /** Deterministic ('alert-' + transaction_id) so that downstream dedupe by id is exact. */
  alert_id: string
  created_at: string
  severity: Severity
  customer_id: string
  transaction_id: string
  merchant_id: string
  amount: number
  event_time: string
  decision: 'fraud' | 'approved'
  risk_score: number
  rules_fired: string[]
  trace: Record<string, RuleTrace>
  /** As on the decision: only when it was late. */
  late?: true
  lateness_ms?: number
  processing_latency_ms: number
  source: Source
}

export interface ErrorRecord {
  error_codes: ValidationCode[]
  issues: ValidationIssue[]
  transaction_id: string | null
  customer_id: string | null
  /** The parsed value when it was JSON, else null. */
  original: unknown
  /**
   * Base64 of the raw bytes when they were not JSON (or broke a record limit), else null; at
   * most the record size limit's worth of bytes.
   */
  original_base64: string | null
  /** Present (true) when original_base64 holds only the first bytes of a larger record. */
  original_truncated?: true
  source: Source
  /**
   * ERR_UNDECODABLE_BATCH: the batch of the input topic that could not be decoded. Its bytes
   * stay in that topic at these offsets (`source.offset` is `last_offset`).
   */
  undecodable_batch?: {
    reason: string
    base_offset: number
    last_offset: number
    codec: string
    cause: string
  }
  ingestion_time: string
  processed_at: string
}

export function encodeSource(topic: string, partition: number, offset: number): string {
  return `{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":${offset}}`
}

/** What the decision adds to the event, shared by the decision and its alert. */
export interface DecisionParts {
  readonly decision: 'fraud' | 'approved'
  readonly riskScore: number
  /** JSON of rules_fired and of the trace, encoded once for both records. */
  readonly firedJson: string
  readonly traceJson: string
  /** A late decision's lateness (`late`, `lateness_ms`); absent for one on time. */
  readonly latenessMs?: number
  readonly eventTime: string
  readonly latencyMs: number
  readonly processedAt: string
  readonly sourceJson: string
}

/**
 * The event text with the decision fields appended. `raw` must be the JSON object text of
 * `event`; text spanning lines is re-encoded so that every output stays one line (NDJSON).
 */
export function encodeDecision(raw: string, event: PaymentEvent, p: DecisionParts): string {
  let body: string
  const end = raw.lastIndexOf('}')
  if (end > 0 && raw.indexOf('\n') < 0 && raw.indexOf('\r') < 0) body = raw.slice(0, end)
  else body = JSON.stringify(event).slice(0, -1)
  return body + decisionSuffix(p)
}

/**
 * The decision fields as a JSON fragment that closes the event object: the event text up to
 * (not including) its final `}` followed by this is the decision payload.
 */
export function decisionSuffix(p: DecisionParts): string {
  return (
    `,"event_time":"${p.eventTime}","decision":"${p.decision}","risk_score":${p.riskScore}` +
    `,"rules_fired":${p.firedJson},"trace":${p.traceJson}${lateFields(p)},"processing_latency_ms":${p.latencyMs}` +
    `,"processed_at":"${p.processedAt}","source":${p.sourceJson}}`
  )
}

/** `,"late":true,"lateness_ms":N` for a late decision; nothing for one on time (its bytes stay as they were). */
function lateFields(p: DecisionParts): string {
  return p.latenessMs === undefined ? '' : `,"late":true,"lateness_ms":${p.latenessMs}`
}

/**
 * Where the decision payload can reuse the event's bytes: the index of its final `}` (the
 * payload is bytes[0, end) + decisionSuffix), or -1 when the text spans lines and must be
 * re-encoded with `encodeDecision` to keep outputs one per line.
 */
export function decisionSplicePoint(rawBytes: Buffer): number {
  if (rawBytes.indexOf(0x0a) >= 0 || rawBytes.indexOf(0x0d) >= 0) return -1
  return rawBytes.lastIndexOf(0x7d)
}

/**
 * JSON of a trace, hand-built: it is encoded for every decision, and JSON.stringify is slow on
 * objects keyed by rule ids. Rule ids and trace fields are plain identifiers (the rule-set
 * loader enforces it for ids), so keys need no escaping; non-finite numbers become null.
 */
export function encodeTrace(trace: Readonly<Record<string, RuleTrace>>): string {
  let out = '{'
  let first = true
  for (const id in trace) {
    const t = trace[id]!
    out += `${first ? '' : ','}"${id}":{${encodeFields(t)}}`
    first = false
  }
  return out + '}'
}

export function encodeAlert(
  event: Pick<PaymentEvent, 'transaction_id' | 'customer_id' | 'merchant_id' | 'amount'>,
  p: DecisionParts
): string {
  return (
    `{"alert_id":${JSON.stringify('alert-' + event.transaction_id)},"created_at":"${p.processedAt}"` +
    `,"severity":"${severityOf(p.riskScore)}","customer_id":${JSON.stringify(event.customer_id)}` +
    `,"transaction_id":${JSON.stringify(event.transaction_id)},"merchant_id":${JSON.stringify(event.merchant_id)}` +
    `,"amount":${event.amount},"event_time":"${p.eventTime}","decision":"${p.decision}","risk_score":${p.riskScore}` +
    `,"rules_fired":${p.firedJson},"trace":${p.traceJson}${lateFields(p)},"processing_latency_ms":${p.latencyMs}` +
    `,"source":${p.sourceJson}}`
  )
}

export function encodeError(r: ErrorRecord): string {
  return JSON.stringify(r)
}

/** Whether a decision raises an alert: fraud, or a risk score above the threshold (default 80). */
export function isAlert(decision: 'fraud' | 'approved', riskScore: number, threshold: number): boolean {
  return decision === 'fraud' || riskScore > threshold
}
