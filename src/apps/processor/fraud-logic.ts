import {
  applyTransaction,
  hasRecent,
  insertionIndex,
  RecentTxn,
  transactionKey,
  type StateLimits
} from '../../domain/rules/customer-state.ts'
import type { RuleEngine } from '../../domain/rules/engine.ts'
import type { RuleContext } from '../../domain/rules/evaluators.ts'
import { riskScore } from '../../domain/scoring.ts'
import { validateEvent, type Validated, type ValidationIssue } from '../../domain/validate.ts'
import type { LogRecord, OutRecord } from '../../ports/log.ts'
import type { KeyRequests, TaskContext, TaskLogic } from '../../stream/task.ts'
import type { ProcessorOptions } from './options.ts'
import { DECIDED, DUPLICATE, ERROR, LATE, Prepared, Result } from './records.ts'
import { Renderer } from './render.ts'
import { CUSTOMERS, MERCHANTS, PROFILES } from './stores.ts'

/** The id in undecodable text: JSON, or the single-quoted dict form some producers write. */
const TXN_ID = /["']transaction_id["']\s*:\s*["']([^"'\\]{1,200})["']/

/**
 * The fraud processor as a stream-task logic: decode + validate (SPEC 5.1), enrich from keyed
 * state (5.2), rules in event time (5.3), risk score (5.4), routing (5.5). A transaction id
 * already among the customer's recent transactions is a duplicate (e.g. a producer retry
 * without idempotence): counted, not scored, nothing emitted.
 */
export class FraudLogic implements TaskLogic<Prepared, Result> {
  readonly renderer: Renderer
  readonly #engine: RuleEngine
  readonly #o: ProcessorOptions
  readonly #limits: StateLimits
  readonly #ctx: RuleContext

  constructor(engine: RuleEngine, options: ProcessorOptions) {
    this.#engine = engine
    this.#o = options
    this.renderer = new Renderer(engine, options)
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
      const v: Validated = {
        ok: false,
        issues: [issue('$', 'record has no value')],
        transactionId: null,
        customerId: null,
        eventTimeMs: null
      }
      return new Prepared(undefined, v, Number.NaN)
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
      return new Prepared(undefined, v, Number.NaN)
    }
    const v = validateEvent(value, record.timestamp, this.#o.validation)
    return new Prepared(value, v, v.ok ? v.eventTimeMs : Number.NaN)
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
    const txnKey = transactionKey(e.transaction_id)
    if (hasRecent(customer, txnKey)) return new Result(DUPLICATE, p)
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
    applyTransaction(
      customer,
      new RecentTxn(t, e.amount, rc.lat, rc.lng, txnKey),
      rc.pos,
      e.merchant_id,
      this.#limits
    )
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
    this.renderer.render(r, rec, processedAtMs, out)
  }
}

function issue(field: string, message: string): ValidationIssue {
  return { code: 'ERR_SCHEMA', field, message }
}
