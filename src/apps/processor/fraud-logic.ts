import type { PaymentEvent, ValidationCode } from '../../domain/event.ts'
import {
  encodeAlert,
  decisionSplicePoint,
  decisionSuffix,
  encodeDecision,
  encodeError,
  encodeLate,
  encodeSource,
  encodeTrace,
  isAlert,
  type DecisionParts
} from '../../domain/decision.ts'
import { applyTransaction, hasRecent, insertionIndex, RecentTxn, type StateLimits } from '../../domain/rules/customer-state.ts'
import type { RuleEngine, Evaluation } from '../../domain/rules/engine.ts'
import type { RuleContext } from '../../domain/rules/evaluators.ts'
import { riskScore } from '../../domain/scoring.ts'
import { issueCodes, validateEvent, type Validated, type ValidationIssue } from '../../domain/validate.ts'
import type { LogRecord, OutRecord } from '../../ports/log.ts'
import { ByteSlab } from '../../stream/slab.ts'
import type { KeyRequests, TaskContext, TaskLogic } from '../../stream/task.ts'
import type { ProcessorOptions } from './options.ts'
import { CUSTOMERS, MERCHANTS, PROFILES } from './stores.ts'

/** A decoded, validated record. */
export class Prepared {
  constructor(
    /** The value as text (null when the record had no value). */
    readonly raw: string | null,
    /** The parsed JSON; undefined when the bytes were not JSON. */
    readonly value: unknown,
    readonly validated: Validated,
    readonly eventTimeMs: number
  ) {}
}

const ERROR = 0
const LATE = 1
const DECIDED = 2
const DUPLICATE = 3

/** What processing a record produced; outputs are encoded from it once processing time is known. */
export class Result {
  constructor(
    readonly kind: typeof ERROR | typeof LATE | typeof DECIDED | typeof DUPLICATE,
    readonly prepared: Prepared,
    readonly evaluation: Evaluation | null = null,
    readonly riskScore = 0,
    readonly watermarkMs = 0
  ) {}
}

/** One record's outcome, for backtests (`collectOutcomes`). */
export interface Outcome {
  readonly transactionId: string | null
  readonly partition: number
  readonly offset: number
  readonly outcome: 'approved' | 'fraud' | 'error' | 'late' | 'duplicate'
  readonly alert: boolean
  readonly rulesFired: readonly string[]
  readonly errorCodes: readonly ValidationCode[]
}

/** Per-batch counters of the logic; reset by the processor before each batch. */
export class LogicStats {
  approved = 0
  fraud = 0
  alerts = 0
  errors = 0
  duplicateTransactionIds = 0
  errorCodes: Partial<Record<ValidationCode, number>> = {}
  ruleHits: Record<string, number> = {}
  latencyMaxMs = 0
  latencySumMs = 0
  outcomes: Outcome[] = []
}

/** The id in undecodable text: JSON, or the single-quoted dict form some producers write. */
const TXN_ID = /["']transaction_id["']\s*:\s*["']([^"'\\]{1,200})["']/

/**
 * The fraud processor as a stream-task logic: decode + validate (SPEC 5.1), enrich from keyed
 * state (5.2), rules in event time (5.3), risk score (5.4), routing (5.5). A transaction id
 * already among the customer's recent transactions is a duplicate (e.g. a producer retry
 * without idempotence): counted, not scored, nothing emitted.
 */
export class FraudLogic implements TaskLogic<Prepared, Result> {
  stats = new LogicStats()
  /** Output bytes of the current batch (replaced by the processor for every batch). */
  slab = new ByteSlab()
  readonly #engine: RuleEngine
  readonly #o: ProcessorOptions
  readonly #limits: StateLimits
  readonly #ctx: RuleContext
  #isoMs = Number.NaN
  #iso = ''

  constructor(engine: RuleEngine, options: ProcessorOptions) {
    this.#engine = engine
    this.#o = options
    this.#limits = {
      retentionMs: engine.historyMs + options.allowedLatenessMs,
      maxRecent: options.maxRecentPerCustomer,
      maxLocations: options.maxKnownLocations,
      maxMerchants: options.maxKnownMerchants
    }
    this.#ctx = { customer: null as never, t: 0, amount: 0, lat: 0, lng: 0, pos: 0 }
  }

  prepare(record: LogRecord): Prepared {
    if (record.value === null) {
      const v: Validated = { ok: false, issues: [issue('$', 'record has no value')], transactionId: null, customerId: null, eventTimeMs: null }
      return new Prepared(null, undefined, v, Number.NaN)
    }
    const raw = record.value.toString('utf8')
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      const m = TXN_ID.exec(raw)
      const v: Validated = {
        ok: false,
        issues: [issue('$', `not valid JSON (${(error as Error).message})`)],
        // Best effort, so that an undecodable event can still be traced to its id.
        transactionId: m ? m[1]! : null,
        customerId: null,
        eventTimeMs: null
      }
      return new Prepared(raw, undefined, v, Number.NaN)
    }
    const v = validateEvent(value, record.timestamp, this.#o.validation)
    return new Prepared(raw, value, v, v.ok ? v.eventTimeMs : Number.NaN)
  }

  eventTime(p: Prepared): number {
    return p.eventTimeMs
  }

  requestKeys(p: Prepared, keys: KeyRequests): void {
    if (!p.validated.ok) return
    const e = p.validated.event
    keys.need(CUSTOMERS, e.customer_id)
    keys.need(MERCHANTS, e.merchant_id)
    if (this.#engine.usesProfiles) keys.need(PROFILES, e.customer_id)
  }

  process(p: Prepared, _record: LogRecord, ctx: TaskContext): Result {
    const v = p.validated
    if (!v.ok) return new Result(ERROR, p)
    const e = v.event
    const customerEntry = ctx.get(CUSTOMERS, e.customer_id)
    const customer = customerEntry.value
    if (this.#engine.usesProfiles) customer.avgSpend = ctx.get(PROFILES, e.customer_id).value
    if (hasRecent(customer, e.transaction_id)) return new Result(DUPLICATE, p)
    const t = v.eventTimeMs
    const rc = this.#ctx
    rc.customer = customer
    rc.t = t
    rc.amount = e.amount
    rc.lat = e.location.lat
    rc.lng = e.location.lng
    rc.pos = insertionIndex(customer.recent, t)
    const ev = this.#engine.evaluate(rc)
    const merchantEntry = ctx.get(MERCHANTS, e.merchant_id)
    const merchant = merchantEntry.value
    const score = riskScore({
      ratio: ev.ratio,
      windowCount: ev.windowCount,
      windowMax: ev.windowMax,
      merchantCount: merchant.count,
      merchantFraud: merchant.fraud,
      weightSum: ev.weightSum,
      fraudHits: ev.fraudHits
    })
    applyTransaction(customer, new RecentTxn(t, e.amount, rc.lat, rc.lng, e.transaction_id), rc.pos, e.merchant_id, this.#limits)
    ctx.markDirty(customerEntry)
    merchant.count++
    if (ev.fraud) merchant.fraud++
    ctx.markDirty(merchantEntry)
    return new Result(DECIDED, p, ev, score)
  }

  late(p: Prepared, _record: LogRecord, watermarkMs: number): Result {
    return new Result(LATE, p, null, 0, watermarkMs)
  }

  render(r: Result, rec: LogRecord, processedAtMs: number, out: OutRecord[]): void {
    const processedAt = this.#isoOf(processedAtMs)
    const source = encodeSource(rec.topic, rec.partition, rec.offset)
    if (r.kind === DECIDED) this.#renderDecision(r, rec, processedAtMs, processedAt, source, out)
    else if (r.kind === ERROR) this.#renderError(r.prepared, rec, processedAt, out)
    else if (r.kind === LATE) this.#renderLate(r, rec, processedAt, out)
    else {
      this.stats.duplicateTransactionIds++
      if (this.#o.collectOutcomes) this.#outcome(r.prepared, rec, 'duplicate', false)
    }
  }

  #renderDecision(r: Result, rec: LogRecord, processedAtMs: number, processedAt: string, source: string, out: OutRecord[]): void {
    const v = r.prepared.validated as Extract<Validated, { ok: true }>
    const e = v.event
    const ev = r.evaluation!
    const latencyMs = processedAtMs - rec.timestamp
    const parts: DecisionParts = {
      decision: ev.fraud ? 'fraud' : 'approved',
      riskScore: r.riskScore,
      firedJson: ev.fired.length === 0 ? '[]' : JSON.stringify(ev.fired),
      traceJson: encodeTrace(ev.trace),
      eventTime: new Date(v.eventTimeMs).toISOString(),
      latencyMs,
      processedAt,
      sourceJson: source
    }
    const s = this.stats
    const topics = this.#o.topics
    out.push({ topic: ev.fraud ? topics.fraud : topics.approved, key: e.customer_id, value: this.#decisionBytes(rec.value!, r.prepared.raw!, e, parts), timestamp: rec.timestamp, headers: rec.headers })
    const alert = isAlert(parts.decision, r.riskScore, this.#o.alertThreshold)
    if (alert) {
      out.push({ topic: topics.alerts, key: e.customer_id, value: this.slab.from(encodeAlert(e, parts)), timestamp: rec.timestamp, headers: rec.headers })
      s.alerts++
    }
    if (ev.fraud) s.fraud++
    else s.approved++
    for (const id of ev.fired) s.ruleHits[id] = (s.ruleHits[id] ?? 0) + 1
    if (latencyMs > s.latencyMaxMs) s.latencyMaxMs = latencyMs
    s.latencySumMs += latencyMs
    if (this.#o.collectOutcomes) this.#outcome(r.prepared, rec, parts.decision, alert, ev.fired)
  }

  #renderError(p: Prepared, rec: LogRecord, processedAt: string, out: OutRecord[]): void {
    const v = p.validated as Extract<Validated, { ok: false }>
    const codes = issueCodes(v.issues)
    const decoded = p.value !== undefined
    const value = encodeError({
      error_codes: codes,
      issues: v.issues,
      transaction_id: v.transactionId,
      customer_id: v.customerId,
      original: decoded ? p.value : null,
      original_base64: !decoded && rec.value !== null ? rec.value.toString('base64') : null,
      source: { topic: rec.topic, partition: rec.partition, offset: rec.offset },
      ingestion_time: Number.isFinite(rec.timestamp) ? new Date(rec.timestamp).toISOString() : '',
      processed_at: processedAt
    })
    out.push({ topic: this.#o.topics.errors, key: v.transactionId, value, timestamp: rec.timestamp, headers: rec.headers })
    const s = this.stats
    s.errors++
    for (const c of codes) s.errorCodes[c] = (s.errorCodes[c] ?? 0) + 1
    if (this.#o.collectOutcomes) this.#outcome(p, rec, 'error', false, [], codes)
  }

  #renderLate(r: Result, rec: LogRecord, processedAt: string, out: OutRecord[]): void {
    const v = r.prepared.validated as Extract<Validated, { ok: true }>
    const e: PaymentEvent = v.event
    const value = encodeLate({
      transaction_id: e.transaction_id,
      customer_id: e.customer_id,
      event_time: new Date(v.eventTimeMs).toISOString(),
      watermark: new Date(r.watermarkMs).toISOString(),
      lateness_ms: r.watermarkMs - v.eventTimeMs,
      allowed_lateness_ms: this.#o.allowedLatenessMs,
      original: e,
      source: { topic: rec.topic, partition: rec.partition, offset: rec.offset },
      ingestion_time: new Date(rec.timestamp).toISOString(),
      processed_at: processedAt
    })
    out.push({ topic: this.#o.topics.late, key: e.customer_id, value, timestamp: rec.timestamp, headers: rec.headers })
    if (this.#o.collectOutcomes) this.#outcome(r.prepared, rec, 'late', false)
  }

  #outcome(p: Prepared, rec: LogRecord, outcome: Outcome['outcome'], alert: boolean, rulesFired: readonly string[] = [], errorCodes: readonly ValidationCode[] = []): void {
    const v = p.validated
    const transactionId = v.ok ? v.event.transaction_id : v.transactionId
    this.stats.outcomes.push({ transactionId, partition: rec.partition, offset: rec.offset, outcome, alert, rulesFired, errorCodes })
  }

  #decisionBytes(bytes: Buffer, raw: string, e: PaymentEvent, parts: DecisionParts): Buffer {
    const end = decisionSplicePoint(bytes)
    return end > 0 ? this.slab.concat(bytes, end, decisionSuffix(parts)) : this.slab.from(encodeDecision(raw, e, parts))
  }

  /** Records of one batch share processing times to the millisecond: format each once. */
  #isoOf(ms: number): string {
    if (ms !== this.#isoMs) {
      this.#isoMs = ms
      this.#iso = new Date(ms).toISOString()
    }
    return this.#iso
  }
}

function issue(field: string, message: string): ValidationIssue {
  return { code: 'ERR_SCHEMA', field, message }
}
