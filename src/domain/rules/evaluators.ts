import { bytesOf, type ByteWriter } from '../../bytes/index.ts'
import { haversineKm } from '../geo.ts'
import { nearestKnownKm, type CustomerState } from './customer-state.ts'
import type { RuleSpec, RuleTrace } from './types.ts'

/**
 * What a rule sees of one event: the customer's state BEFORE the event, and `pos`, the
 * event's place in `customer.recent` (event-time order), so `recent.t(pos - 1)` is the previous
 * transaction in event time. The engine reuses one context object for every event.
 */
export interface RuleContext {
  customer: CustomerState
  t: number
  amount: number
  lat: number
  lng: number
  pos: number
}

export interface CompiledRule {
  readonly spec: RuleSpec
  /** How much event-time history the rule needs, ms (drives state retention). */
  readonly windowMs: number
  evaluate(ctx: RuleContext): RuleTrace
  /** JSON of a trace this rule returned; a fixed template per rule, as it runs for every event. */
  encode(trace: RuleTrace): string
  /** Optional: the same JSON written as bytes (the decision path), without building strings. */
  encodeInto?(trace: RuleTrace, w: ByteWriter): void
}

const NOT_FIRED: RuleTrace = Object.freeze({ fired: false, history: 0 })
const NOT_FIRED_JSON = '{"fired":false,"history":0}'

// The constant parts of the rules' trace templates, as bytes (ByteWriter.put).
const NOT_FIRED_BYTES = bytesOf(NOT_FIRED_JSON)
const FIRED_COUNT = bytesOf('{"fired":true,"count":')
const NOT_FIRED_COUNT = bytesOf('{"fired":false,"count":')
const FIRED_KM = bytesOf('{"fired":true,"km":')
const NOT_FIRED_KM = bytesOf('{"fired":false,"km":')
const MINUTES = bytesOf(',"minutes":')
const FIRED_RATIO = bytesOf('{"fired":true,"ratio":')
const NOT_FIRED_RATIO = bytesOf('{"fired":false,"ratio":')
const AVERAGE = bytesOf(',"average":')
const HISTORY = bytesOf(',"history":')
const FIRED_AMOUNT = bytesOf('{"fired":true,"amount":')
const NOT_FIRED_AMOUNT = bytesOf('{"fired":false,"amount":')

/** JSON of any flat trace (the shapes a rule's template does not cover). */
export function encodeFields(t: RuleTrace): string {
  let out = ''
  for (const k in t) {
    const v = t[k]
    const enc =
      typeof v === 'number'
        ? Number.isFinite(v)
          ? String(v)
          : 'null'
        : typeof v === 'string'
          ? JSON.stringify(v)
          : String(v)
    out += `${out.length === 0 ? '' : ','}"${k}":${enc}`
  }
  return `{${out}}`
}

function num(n: unknown): string {
  return Number.isFinite(n) ? String(n) : 'null'
}

/**
 * JSON of a value produced by `round(x, digits)`, the same text String() gives, built with
 * integer arithmetic (formatting doubles is the costliest part of a trace). Exact because
 * the decimal int.frac has at most 15 significant digits, so it is the shortest form of the
 * double; larger values fall back to String().
 */
/** `formatRounded` written as bytes: the same text. */
export function writeRounded(w: ByteWriter, v: unknown, digits: 1 | 2): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) return w.text('null')
  const scale = digits === 1 ? 10 : 100
  const n = Math.round(v * scale)
  if (n < 0 || n > 1e14) return w.text(String(v))
  const int = Math.floor(n / scale)
  const frac = n - int * scale
  w.num(int)
  if (frac === 0) return
  w.u8(0x2e)
  if (digits === 1) return w.num(frac)
  if (frac % 10 === 0) return w.num(frac / 10)
  if (frac < 10) w.u8(0x30)
  w.num(frac)
}

export function formatRounded(v: unknown, digits: 1 | 2): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'null'
  const scale = digits === 1 ? 10 : 100
  const n = Math.round(v * scale)
  if (n < 0 || n > 1e14) return String(v)
  const int = Math.floor(n / scale)
  const frac = n - int * scale
  if (frac === 0) return String(int)
  if (digits === 1) return `${int}.${frac}`
  return frac % 10 === 0 ? `${int}.${frac / 10}` : `${int}.${frac < 10 ? '0' : ''}${frac}`
}

/**
 * Transactions of the customer within [t - windowMs, t], this one included. The window
 * includes its start: an event exactly `windowMs` earlier counts ("within 2 minutes").
 */
export function countInWindow(ctx: RuleContext, windowMs: number): number {
  return 1 + ctx.customer.recent.countBack(ctx.pos, ctx.t - windowMs)
}

export class VelocityRule implements CompiledRule {
  readonly windowMs: number
  readonly #max: number
  readonly #windowS: number
  /** The constant end of this rule's trace JSON. */
  readonly #tail: Uint8Array
  constructor(readonly spec: RuleSpec) {
    this.#max = spec.params.maxCount as number
    this.#windowS = spec.params.windowSeconds as number
    this.windowMs = Math.round(this.#windowS * 1000)
    this.#tail = bytesOf(`,"window_s":${this.#windowS},"max_count":${this.#max}}`)
  }
  evaluate(ctx: RuleContext): RuleTrace {
    const count = countInWindow(ctx, this.windowMs)
    return { fired: count > this.#max, count, window_s: this.#windowS, max_count: this.#max }
  }
  encode(t: RuleTrace): string {
    return `{"fired":${t.fired},"count":${t.count},"window_s":${this.#windowS},"max_count":${this.#max}}`
  }
  encodeInto(t: RuleTrace, w: ByteWriter): void {
    w.put(t.fired ? FIRED_COUNT : NOT_FIRED_COUNT)
    w.num(t.count as number)
    w.put(this.#tail)
  }
}

/** impossible_travel and location_change: far from the previous transaction, too soon after it. */
export class TravelRule implements CompiledRule {
  readonly windowMs: number
  readonly #minKm: number
  readonly #maxMinutes: number
  /** The constant end of this rule's trace JSON. */
  readonly #tail: Uint8Array
  constructor(readonly spec: RuleSpec) {
    this.#minKm = spec.params.minKm as number
    this.#maxMinutes = spec.params.maxMinutes as number
    this.windowMs = Math.round(this.#maxMinutes * 60_000)
    this.#tail = bytesOf(`,"min_km":${this.#minKm},"max_minutes":${this.#maxMinutes}}`)
  }
  evaluate(ctx: RuleContext): RuleTrace {
    if (ctx.pos === 0) return NOT_FIRED
    const recent = ctx.customer.recent
    const prev = ctx.pos - 1
    const km = haversineKm(recent.lat(prev), recent.lng(prev), ctx.lat, ctx.lng)
    const dt = ctx.t - recent.t(prev)
    return {
      fired: km > this.#minKm && dt < this.windowMs,
      km: round(km, 1),
      minutes: round(dt / 60_000, 2),
      min_km: this.#minKm,
      max_minutes: this.#maxMinutes
    }
  }
  encode(t: RuleTrace): string {
    if (t === NOT_FIRED) return NOT_FIRED_JSON
    return `{"fired":${t.fired},"km":${formatRounded(t.km, 1)},"minutes":${formatRounded(t.minutes, 2)},"min_km":${this.#minKm},"max_minutes":${this.#maxMinutes}}`
  }
  encodeInto(t: RuleTrace, w: ByteWriter): void {
    if (t === NOT_FIRED) return w.put(NOT_FIRED_BYTES)
    w.put(t.fired ? FIRED_KM : NOT_FIRED_KM)
    writeRounded(w, t.km, 1)
    w.put(MINUTES)
    writeRounded(w, t.minutes, 2)
    w.put(this.#tail)
  }
}

export class AmountAnomalyRule implements CompiledRule {
  readonly windowMs = 0
  readonly #multiplier: number
  readonly #minHistory: number
  readonly #profile: boolean
  /** The constant ends of this rule's trace JSON, by the source of the average. */
  readonly #tailProfile: Uint8Array
  readonly #tailHistory: Uint8Array
  constructor(readonly spec: RuleSpec) {
    this.#multiplier = spec.params.multiplier as number
    this.#minHistory = spec.params.minHistory as number
    this.#profile = spec.params.averageSource === 'profile'
    this.#tailProfile = bytesOf(`,"multiplier":${num(this.#multiplier)},"source":"profile"}`)
    this.#tailHistory = bytesOf(`,"multiplier":${num(this.#multiplier)},"source":"history"}`)
  }
  evaluate(ctx: RuleContext): RuleTrace {
    const c = ctx.customer
    const fromProfile = this.#profile && c.avgSpend !== null
    const average = fromProfile ? (c.avgSpend as number) : c.count > 0 ? c.sum / c.count : Number.NaN
    if (!(average > 0)) return NOT_FIRED
    const enough = fromProfile || c.count >= this.#minHistory
    return {
      fired: enough && ctx.amount > this.#multiplier * average,
      ratio: round(ctx.amount / average, 2),
      average: round(average, 2),
      history: c.count,
      multiplier: this.#multiplier,
      source: fromProfile ? 'profile' : 'history'
    }
  }
  encode(t: RuleTrace): string {
    if (t === NOT_FIRED) return NOT_FIRED_JSON
    return `{"fired":${t.fired},"ratio":${formatRounded(t.ratio, 2)},"average":${formatRounded(t.average, 2)},"history":${t.history},"multiplier":${this.#multiplier},"source":"${t.source}"}`
  }
  encodeInto(t: RuleTrace, w: ByteWriter): void {
    if (t === NOT_FIRED) return w.put(NOT_FIRED_BYTES)
    w.put(t.fired ? FIRED_RATIO : NOT_FIRED_RATIO)
    writeRounded(w, t.ratio, 2)
    w.put(AVERAGE)
    writeRounded(w, t.average, 2)
    w.put(HISTORY)
    w.num(t.history as number)
    w.put(t.source === 'profile' ? this.#tailProfile : this.#tailHistory)
  }
}

export class NewLocationAmountRule implements CompiledRule {
  readonly windowMs = 0
  readonly #minAmount: number
  readonly #radiusKm: number
  readonly #minHistory: number
  constructor(readonly spec: RuleSpec) {
    this.#minAmount = spec.params.minAmount as number
    this.#radiusKm = spec.params.radiusKm as number
    this.#minHistory = spec.params.minHistory as number
  }
  evaluate(ctx: RuleContext): RuleTrace {
    const c = ctx.customer
    if (c.count < this.#minHistory || c.locations.length === 0) {
      return { fired: false, amount: ctx.amount, history: c.count }
    }
    // Only pay for the distances when the amount could fire the rule.
    if (!(ctx.amount > this.#minAmount))
      return { fired: false, amount: ctx.amount, min_amount: this.#minAmount }
    const nearest = nearestKnownKm(c, ctx.lat, ctx.lng)
    return {
      fired: nearest > this.#radiusKm,
      amount: ctx.amount,
      min_amount: this.#minAmount,
      nearest_km: round(nearest, 2),
      radius_km: this.#radiusKm,
      known_locations: c.locations.length
    }
  }
  encode(t: RuleTrace): string {
    return encodeFields(t)
  }
}

export class AmountThresholdRule implements CompiledRule {
  readonly windowMs = 0
  readonly #amount: number
  constructor(readonly spec: RuleSpec) {
    this.#amount = spec.params.amount as number
  }
  evaluate(ctx: RuleContext): RuleTrace {
    return { fired: ctx.amount > this.#amount, amount: ctx.amount, threshold: this.#amount }
  }
  encode(t: RuleTrace): string {
    return `{"fired":${t.fired},"amount":${num(t.amount)},"threshold":${this.#amount}}`
  }
  encodeInto(t: RuleTrace, w: ByteWriter): void {
    w.put(t.fired ? FIRED_AMOUNT : NOT_FIRED_AMOUNT)
    w.num(t.amount as number)
    w.text(',"threshold":')
    w.num(this.#amount)
    w.u8(0x7d)
  }
}

export function compileRule(spec: RuleSpec): CompiledRule {
  switch (spec.type) {
    case 'velocity':
      return new VelocityRule(spec)
    case 'impossible_travel':
    case 'location_change':
      return new TravelRule(spec)
    case 'amount_anomaly':
      return new AmountAnomalyRule(spec)
    case 'new_location_amount':
      return new NewLocationAmountRule(spec)
    case 'amount_threshold':
      return new AmountThresholdRule(spec)
  }
}

/** Rounds for display in traces only; verdicts always compare the exact values. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
