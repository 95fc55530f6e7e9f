import { isUtf8 } from 'node:buffer'
import {
  applyTransaction,
  hasRecent,
  insertionIndex,
  RecentTxn,
  transactionKey,
  type CustomerState,
  type MerchantState,
  type StateLimits
} from '../../domain/rules/customer-state.ts'
import type { RuleEngine } from '../../domain/rules/engine.ts'
import type { RuleContext } from '../../domain/rules/evaluators.ts'
import { riskScore } from '../../domain/scoring.ts'
import { scanEvent } from '../../domain/event-scan.ts'
import { checkKeys } from '../../domain/json-keys.ts'
import { checkRecordLimits, NOT_UTF8 } from '../../domain/limits.ts'
import { validateEvent, type ValidationIssue } from '../../domain/validate.ts'
import { type LogRecord, type OutRecord, type UndecodableBatch, undecodableBatchOf } from '../../ports/log.ts'
import type { Entry } from '../../stream/keyed-state.ts'
import { ByteReader, type ByteWriter } from '../../bytes/index.ts'
import type { KeyRequests, TaskContext, TaskJournal, TaskLogic } from '../../stream/task.ts'
import { MAX_ID_LENGTH } from '../../domain/validate.ts'
import { StateFormatError } from '../../domain/rules/state-codec.ts'
import type { ProcessorOptions } from './options.ts'
import { DECIDED, DUPLICATE, ERROR, type Failure, Prepared, Result } from './records.ts'
import { Renderer } from './render.ts'
import { addReply } from './reply.ts'
import { REPLY_TO_HEADER } from '../../domain/reply.ts'
import { CUSTOMERS, MERCHANTS, PROFILES } from './stores.ts'

/** The id in undecodable text: JSON, or the single-quoted dict form some producers write. */
const TXN_ID = /["']transaction_id["']\s*:\s*["']([^"'\\]{1,200})["']/

/**
 * The fraud processor as a stream-task logic: decode + validate (SPEC 5.1), enrich from keyed
 * state (5.2), rules in event time (5.3), risk score (5.4), routing (5.5). A transaction id
 * already among the customer's recent transactions is a duplicate (e.g. a producer retry
 * without idempotence): counted, not scored, nothing emitted.
 *
 * Every valid payment is decided. One whose event time is behind its customer's latest by
 * more than the allowed lateness is decided late: flagged with its lateness, and folded into
 * the customer's state in event-time order like any other (see customer-state.ts).
 */
export class FraudLogic implements TaskLogic<Prepared, Result> {
  readonly renderer: Renderer
  readonly journal: FraudJournal
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
    this.journal = new FraudJournal(this.#limits)
  }

  prepare(record: LogRecord): Prepared {
    const bytes = record.value
    if (bytes === null) {
      const batch = undecodableBatchOf(record)
      if (batch !== null) return invalid(undecodableIssue(batch), null)
      return invalid(issue('$', 'record has no value'), null)
    }
    const limits = this.#o.limits
    // The record's size bounds all work on it; the scanner keeps to the other limits itself.
    const scanned =
      bytes.length <= limits.maxEventBytes
        ? scanEvent(bytes, record.timestamp, this.#o.validation, limits)
        : null
    if (scanned !== null) return Prepared.scanned(scanned)
    // Anything the byte scanner is not certain of: the limits, then JSON.parse and the validator.
    const over = checkRecordLimits(bytes, limits)
    if (over !== null) return invalid(issue('$', over.message), idIn(bytes, limits.maxEventBytes))
    // Decoding would replace bad sequences with U+FFFD: two different ids could read the same.
    if (!isUtf8(bytes)) {
      return invalid(issue('$', NOT_UTF8), idIn(bytes, bytes.length))
    }
    const raw = bytes.toString('utf8')
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      return invalid(issue('$', `not valid JSON (${(error as Error).message})`), idIn(bytes, bytes.length))
    }
    // A __proto__ key is no field of a payment, and the readers of the outputs refuse it (any
    // copy of the object by assignment would change a prototype): the event is not taken.
    const keys = checkKeys(bytes, { duplicates: 'last-wins' })
    if (keys !== null) return invalid(issue('$', keys.message), idIn(bytes, bytes.length))
    const v = validateEvent(value, record.timestamp, this.#o.validation)
    return v.ok ? Prepared.valid(v.event, v.eventTimeMs) : Prepared.invalid(v, value)
  }

  reject(record: LogRecord, error: unknown): Prepared {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    const id = record.value === null ? null : idIn(record.value, this.#o.limits.maxEventBytes)
    const failure: Failure = {
      ok: false,
      issues: [{ code: 'ERR_INTERNAL', field: '$', message: `processing failed: ${message.slice(0, 500)}` }],
      transactionId: id,
      customerId: null,
      eventTimeMs: null
    }
    return Prepared.invalid(failure, undefined)
  }

  fail(record: LogRecord, error: unknown): Result {
    return new Result(ERROR, this.reject(record, error))
  }

  eventTime(p: Prepared): number {
    return p.fields.eventTimeMs
  }

  requestKeys(p: Prepared, keys: KeyRequests): void {
    if (!p.ok) return
    keys.need(CUSTOMERS, p.fields.customerId)
    keys.need(MERCHANTS, p.fields.merchantId)
    if (this.#engine.usesProfiles) keys.need(PROFILES, p.fields.customerId)
  }

  process(p: Prepared, _record: LogRecord, ctx: TaskContext): Result {
    if (!p.ok) return new Result(ERROR, p)
    const customerEntry = ctx.get(CUSTOMERS, p.fields.customerId)
    const customer = customerEntry.value
    if (this.#engine.usesProfiles) customer.avgSpend = ctx.get(PROFILES, p.fields.customerId).value
    const txnKey = transactionKey(p.fields.transactionId)
    if (hasRecent(customer, txnKey)) return new Result(DUPLICATE, p)
    const t = p.fields.eventTimeMs
    // Per customer: another customer's traffic on the partition does not make this one late.
    // Before the customer's first transaction lastT is NaN, and nothing is late.
    const behind = customer.lastT - t
    const latenessMs = behind > this.#o.allowedLatenessMs ? behind : 0
    const rc = this.#ctx
    rc.customer = customer
    rc.t = t
    rc.amount = p.fields.amount
    rc.lat = p.fields.lat
    rc.lng = p.fields.lng
    rc.pos = insertionIndex(customer.recent, t)
    const ev = this.#engine.evaluate(rc)
    const merchantEntry = ctx.get(MERCHANTS, p.fields.merchantId)
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
    fold(
      ctx,
      customerEntry,
      merchantEntry,
      new RecentTxn(t, p.fields.amount, p.fields.lat, p.fields.lng, txnKey),
      rc.pos,
      p.fields.merchantId,
      ev.fraud,
      this.#limits
    )
    return new Result(DECIDED, p, ev, score, latenessMs, txnKey)
  }

  render(r: Result, rec: LogRecord, processedAtMs: number, out: OutRecord[]): void {
    const first = out.length
    this.renderer.render(r, rec, processedAtMs, out)
    // Request-reply: the one place a record's reply is added, among its outputs (reply.ts).
    if (rec.headers[REPLY_TO_HEADER] !== undefined)
      addReply(rec, r.prepared, r.kind === DUPLICATE, this.#o.replyTopics, first, out)
  }
}

/**
 * The state change of one scored transaction: folded into its customer and counted for its
 * merchant. Processing and journal replay both go through here, so they cannot drift apart.
 */
function fold(
  ctx: TaskContext,
  customerEntry: Entry<CustomerState>,
  merchantEntry: Entry<MerchantState>,
  txn: RecentTxn,
  pos: number,
  merchantId: string,
  fraud: boolean,
  limits: StateLimits
): void {
  applyTransaction(customerEntry.value, txn, pos, merchantId, limits)
  ctx.markDirty(customerEntry)
  const merchant = merchantEntry.value
  merchant.count++
  if (fraud) merchant.fraud++
  ctx.markDirty(merchantEntry)
}

const JOURNAL_VERSION = 1

/**
 * Journal entries of the fraud logic (src/stream/journal.ts), one per scored transaction,
 * little-endian: u8 1 | u16 len, UTF-8 customer id | u16 len, UTF-8 merchant id
 * | f64 event time, amount, lat, lng, transaction key | u8 fraud. About 80 bytes where the
 * customer's snapshot is 300 to 600.
 */
export class FraudJournal implements TaskJournal<Result> {
  readonly maxEntryBytes = 1 + 2 * (2 + MAX_ID_LENGTH * 3) + 5 * 8 + 1
  readonly #limits: StateLimits

  constructor(limits: StateLimits) {
    this.#limits = limits
  }

  write(r: Result, w: ByteWriter): boolean {
    if (r.kind !== DECIDED) return false
    const p = r.prepared
    w.u8(JOURNAL_VERSION)
    w.str16(p.fields.customerId)
    w.str16(p.fields.merchantId)
    w.f64(p.fields.eventTimeMs)
    w.f64(p.fields.amount)
    w.f64(p.fields.lat)
    w.f64(p.fields.lng)
    w.f64(r.txnKey)
    w.u8(r.evaluation!.fraud ? 1 : 0)
    return true
  }

  keys(entry: Buffer, keys: KeyRequests): void {
    const r = reader(entry)
    keys.need(CUSTOMERS, r.str16())
    keys.need(MERCHANTS, r.str16())
  }

  apply(entry: Buffer, ctx: TaskContext): void {
    const r = reader(entry)
    const customerEntry = ctx.get(CUSTOMERS, r.str16())
    const merchantId = r.str16()
    const merchantEntry = ctx.get(MERCHANTS, merchantId)
    const t = r.f64()
    const txn = new RecentTxn(t, r.f64(), r.f64(), r.f64(), r.f64())
    const fraud = r.u8() === 1
    if (!r.done) throw new StateFormatError('journal entry has trailing bytes')
    const pos = insertionIndex(customerEntry.value.recent, t)
    fold(ctx, customerEntry, merchantEntry, txn, pos, merchantId, fraud, this.#limits)
  }
}

function reader(entry: Buffer): ByteReader {
  const r = new ByteReader(entry)
  const version = r.u8()
  if (version !== JOURNAL_VERSION)
    throw new StateFormatError(`not a version-${JOURNAL_VERSION} journal entry (version byte ${version})`)
  return r
}

/** A record that is not JSON, or beyond a limit: its bytes go to the error record as base64. */
function invalid(problem: ValidationIssue, transactionId: string | null): Prepared {
  return Prepared.invalid(
    { ok: false, issues: [problem], transactionId, customerId: null, eventTimeMs: null },
    undefined
  )
}

/** Best effort, so that an undecodable event can still be traced to its id: within its first `max` bytes. */
function idIn(bytes: Buffer, max: number): string | null {
  const m = TXN_ID.exec(bytes.toString('utf8', 0, Math.min(bytes.length, max)))
  return m ? m[1]! : null
}

function undecodableIssue(b: UndecodableBatch): ValidationIssue {
  return {
    code: 'ERR_UNDECODABLE_BATCH',
    field: '$',
    message:
      `record batch at offsets ${b.baseOffset}-${b.lastOffset} of ${b.topic}:${b.partition} ` +
      `(compression ${b.codec}) could not be decoded: ${b.reason}: ${b.cause}`
  }
}

function issue(field: string, message: string): ValidationIssue {
  return { code: 'ERR_SCHEMA', field, message }
}
