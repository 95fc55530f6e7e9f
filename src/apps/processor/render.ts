import type { ValidationCode } from '../../domain/event.ts'
import {
  decisionSplicePoint,
  decisionSuffix,
  encodeAlert,
  encodeDecision,
  encodeError,
  encodeSource,
  isAlert,
  type DecisionParts,
  type ErrorRecord
} from '../../domain/decision.ts'
import type { Evaluation, RuleEngine } from '../../domain/rules/engine.ts'
import { IsoFormatter, isoOrEmpty } from '../../domain/time.ts'
import { truncatedBase64 } from '../../domain/limits.ts'
import { issueCodes } from '../../domain/validate.ts'
import { type LogRecord, type OutRecord, undecodableBatchOf } from '../../ports/log.ts'
import type { DerivedOutRecord } from '../../stream/replay-log.ts'
import { ByteSlab, bytesOf } from '../../bytes/index.ts'
import type { ProcessorOptions } from './options.ts'
import { DECIDED, ERROR, LogicStats, type Outcome, type Prepared, type Result } from './records.ts'

// The constant parts of a decision's suffix (see decisionSuffix), as bytes.
const EVENT_TIME = bytesOf(',"event_time":"')
const FRAUD_SCORE = bytesOf('","decision":"fraud","risk_score":')
const APPROVED_SCORE = bytesOf('","decision":"approved","risk_score":')
const RULES_FIRED = bytesOf(',"rules_fired":[')
const TRACE = bytesOf('],"trace":')
const LATE = bytesOf(',"late":true,"lateness_ms":')
const LATENCY = bytesOf(',"processing_latency_ms":')
const PROCESSED_AT = bytesOf(',"processed_at":"')
const SOURCE = bytesOf('","source":')
const CLOSE = bytesOf('}}')

/**
 * Encodes a processed record into its output records (SPEC 5.5) and counts what it emitted.
 * Decisions and alerts are written into the batch's byte slab; keys are the customer id (error
 * records: the transaction id, or null); record timestamps and headers are the input's.
 */
export class Renderer {
  stats = new LogicStats()
  /** Output bytes of the current batch (replaced by the processor for every batch). */
  slab = new ByteSlab()
  readonly #engine: RuleEngine
  readonly #o: ProcessorOptions
  #isoMs = Number.NaN
  #iso = ''
  readonly #processedIso = new IsoFormatter()
  readonly #eventIso = new IsoFormatter()

  constructor(engine: RuleEngine, options: ProcessorOptions) {
    this.#engine = engine
    this.#o = options
  }

  render(r: Result, rec: LogRecord, processedAtMs: number, out: OutRecord[]): void {
    const processedAt = this.#isoOf(processedAtMs)
    if (r.kind === DECIDED) this.#renderDecision(r, rec, processedAtMs, processedAt, out)
    else if (r.kind === ERROR) this.#renderError(r.prepared, rec, processedAt, out)
    else {
      this.stats.duplicateTransactionIds++
      if (this.#o.collectOutcomes) this.#outcome(r.prepared, rec, 'duplicate', false)
    }
  }

  #renderDecision(
    r: Result,
    rec: LogRecord,
    processedAtMs: number,
    processedAt: string,
    out: OutRecord[]
  ): void {
    const p = r.prepared
    const ev = r.evaluation!
    // Clamped: a producer clock ahead of ours would otherwise give negative latencies.
    const latencyMs = Math.max(0, processedAtMs - rec.timestamp)
    const kind = ev.fraud ? 'fraud' : 'approved'
    let parts: DecisionParts | null = null
    const s = this.stats
    const topics = this.#o.topics
    const end = decisionSplicePoint(rec.value!)
    let value: Buffer | null = null
    // The event's own bytes, then the decision fields: re-emits rebuild it from the redelivered event.
    if (end > 0)
      value = this.#decisionInto(
        rec,
        end,
        ev,
        kind,
        r.riskScore,
        r.latenessMs,
        p.fields.eventTimeMs,
        latencyMs,
        processedAt
      )
    if (value === null) {
      parts = this.#parts(r, rec, this.#eventIso.format(p.fields.eventTimeMs), latencyMs, processedAt)
      value =
        end > 0
          ? this.slab.concat(rec.value, end, decisionSuffix(parts))
          : this.slab.from(encodeDecision(rec.value!.toString('utf8'), p.event(rec), parts))
    }
    const decision: DerivedOutRecord = {
      topic: ev.fraud ? topics.fraud : topics.approved,
      key: p.fields.customerId,
      value,
      timestamp: rec.timestamp,
      headers: rec.headers,
      inputPrefix: end > 0 ? end : undefined
    }
    out.push(decision)
    const alert = isAlert(kind, r.riskScore, this.#o.alertThreshold)
    if (alert) {
      parts ??= this.#parts(r, rec, this.#eventIso.format(p.fields.eventTimeMs), latencyMs, processedAt)
      out.push({
        topic: topics.alerts,
        key: p.fields.customerId,
        value: this.slab.from(
          encodeAlert(
            {
              transaction_id: p.fields.transactionId,
              customer_id: p.fields.customerId,
              merchant_id: p.fields.merchantId,
              amount: p.fields.amount
            },
            parts
          )
        ),
        timestamp: rec.timestamp,
        headers: rec.headers
      })
      s.alerts++
    }
    if (ev.fraud) s.fraud++
    else s.approved++
    if (r.latenessMs > 0) s.late++
    for (const id of ev.fired) s.ruleHits[id] = (s.ruleHits[id] ?? 0) + 1
    if (latencyMs > s.latencyMaxMs) s.latencyMaxMs = latencyMs
    s.latencySumMs += latencyMs
    if (this.#o.collectOutcomes) this.#outcome(p, rec, kind, alert, ev.fired)
  }

  /** The decision fields as strings: for alerts and events spanning lines (both rare). */
  #parts(
    r: Result,
    rec: LogRecord,
    eventTime: string,
    latencyMs: number,
    processedAt: string
  ): DecisionParts {
    const ev = r.evaluation!
    return {
      decision: ev.fraud ? 'fraud' : 'approved',
      riskScore: r.riskScore,
      firedJson: ev.fired.length === 0 ? '[]' : JSON.stringify(ev.fired),
      traceJson: this.#engine.encodeTrace(ev),
      latenessMs: r.latenessMs > 0 ? r.latenessMs : undefined,
      eventTime,
      latencyMs,
      processedAt,
      sourceJson: this.#sourceJson(rec)
    }
  }

  /**
   * The decision payload written straight into the slab: the event's bytes up to `end`, then
   * the text of `decisionSuffix`, with no string built for it (the costliest allocation of a
   * decision). Null if a field outgrew its room (then the string path writes it).
   */
  #decisionInto(
    rec: LogRecord,
    end: number,
    ev: Evaluation,
    kind: 'fraud' | 'approved',
    riskScore: number,
    latenessMs: number,
    eventTimeMs: number,
    latencyMs: number,
    processedAt: string
  ): Buffer | null {
    const prefix = this.#sourcePrefix(rec)
    const w = this.slab.begin(end + 512 + prefix.length + 2 * this.#engine.maxTraceBytes)
    try {
      w.raw(rec.value!, 0, end)
      w.put(EVENT_TIME)
      this.#eventIso.writeInto(eventTimeMs, w)
      w.put(kind === 'fraud' ? FRAUD_SCORE : APPROVED_SCORE)
      w.num(riskScore)
      w.put(RULES_FIRED)
      const fired = ev.fired
      for (let i = 0; i < fired.length; i++) {
        w.text(i === 0 ? '"' : ',"')
        w.text(fired[i]!)
        w.u8(0x22)
      }
      w.put(TRACE)
      this.#engine.encodeTraceInto(ev, w)
      if (latenessMs > 0) {
        w.put(LATE)
        w.num(latenessMs)
      }
      w.put(LATENCY)
      w.num(latencyMs)
      w.put(PROCESSED_AT)
      w.text(processedAt)
      w.put(SOURCE)
      w.put(prefix)
      w.num(rec.offset)
      w.put(CLOSE)
    } catch (error) {
      if (error instanceof RangeError) return null
      throw error
    }
    return this.slab.end()
  }

  #renderError(p: Prepared, rec: LogRecord, processedAt: string, out: OutRecord[]): void {
    const v = p.failure!
    const codes = issueCodes(v.issues)
    const decoded = p.value !== undefined
    const raw =
      !decoded && rec.value !== null ? truncatedBase64(rec.value, this.#o.limits.maxEventBytes) : null
    const value = encodeError({
      error_codes: codes,
      issues: v.issues,
      transaction_id: v.transactionId,
      customer_id: v.customerId,
      original: decoded ? p.value : null,
      original_base64: raw === null ? null : raw.base64,
      ...(raw?.truncated === true ? { original_truncated: true } : {}),
      source: { topic: rec.topic, partition: rec.partition, offset: rec.offset },
      ...undecodableFields(rec),
      ingestion_time: isoOrEmpty(rec.timestamp),
      processed_at: processedAt
    })
    out.push({
      topic: this.#o.topics.errors,
      key: v.transactionId,
      value,
      timestamp: rec.timestamp,
      headers: rec.headers
    })
    const s = this.stats
    s.errors++
    for (const c of codes) s.errorCodes[c] = (s.errorCodes[c] ?? 0) + 1
    if (this.#o.collectOutcomes) this.#outcome(p, rec, 'error', false, [], codes)
  }

  #outcome(
    p: Prepared,
    rec: LogRecord,
    outcome: Outcome['outcome'],
    alert: boolean,
    rulesFired: readonly string[] = [],
    errorCodes: readonly ValidationCode[] = []
  ): void {
    const transactionId = p.failure === null ? p.fields.transactionId : p.failure.transactionId
    this.stats.outcomes.push({
      transactionId,
      partition: rec.partition,
      offset: rec.offset,
      outcome,
      alert,
      rulesFired,
      errorCodes
    })
  }

  #srcTopic = ''
  #srcPartition = -1
  #srcPrefix = ''
  #srcPrefixBytes: Uint8Array = bytesOf('')
  /** `{"topic":…,"partition":…,"offset":N}`, with the constant part cached per partition. */
  #sourceJson(rec: LogRecord): string {
    this.#sourcePrefix(rec)
    return `${this.#srcPrefix}${rec.offset}}`
  }

  /** `{"topic":…,"partition":…,"offset":` as bytes, cached per partition. */
  #sourcePrefix(rec: LogRecord): Uint8Array {
    if (rec.topic !== this.#srcTopic || rec.partition !== this.#srcPartition) {
      this.#srcTopic = rec.topic
      this.#srcPartition = rec.partition
      this.#srcPrefix = encodeSource(rec.topic, rec.partition, 0).slice(0, -2)
      this.#srcPrefixBytes = bytesOf(this.#srcPrefix)
    }
    return this.#srcPrefixBytes
  }

  /** Records of one batch share processing times to the millisecond: format each once. */
  #isoOf(ms: number): string {
    if (ms !== this.#isoMs) {
      this.#isoMs = ms
      this.#iso = this.#processedIso.format(ms)
    }
    return this.#iso
  }
}

/** The `undecodable_batch` field of the error record that stands for a batch the consumer could not decode. */
function undecodableFields(rec: LogRecord): Partial<Pick<ErrorRecord, 'undecodable_batch'>> {
  const b = undecodableBatchOf(rec)
  if (b === null) return {}
  return {
    undecodable_batch: {
      reason: b.reason,
      base_offset: b.baseOffset,
      last_offset: b.lastOffset,
      codec: b.codec,
      cause: b.cause
    }
  }
}
