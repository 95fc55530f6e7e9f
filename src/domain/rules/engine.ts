import { compileRule, countInWindow, type CompiledRule, type RuleContext } from './evaluators.ts'
import type { RuleSet, RuleTrace } from './types.ts'
import { bytesOf, type ByteWriter } from '../../bytes/index.ts'

/** The outcome of every rule of a set on one event, plus the features the risk score uses. */
export interface Evaluation {
  /** Per rule id, in rule-set order. */
  readonly trace: Record<string, RuleTrace>
  /** Ids of the rules that fired, in rule-set order. */
  readonly fired: string[]
  /** Whether a rule marked `fraud: true` fired. */
  readonly fraud: boolean
  readonly fraudHits: number
  /** Sum of the weights of the fired rules. */
  readonly weightSum: number
  /** Customer transactions within the frequency window ending at this event, this one included. */
  readonly windowCount: number
  /** The frequency threshold that `windowCount` is compared with. */
  readonly windowMax: number
  /** amount / customer average (seeded profile if loaded, else running); NaN without history. */
  readonly ratio: number
}

/** Frequency feature without a velocity rule in the set: SPEC 5.3's 5 in 2 minutes. */
const DEFAULT_FREQUENCY = { windowMs: 120_000, max: 5 }

/** A compiled rule set. Stateless: evaluation reads a customer state, it never changes it. */
export class RuleEngine {
  readonly rules: readonly CompiledRule[]
  /** Event-time history the rules need, ms: drives how long `recent` keeps transactions. */
  readonly historyMs: number
  /** Whether a rule reads seeded feature-store profiles (so the processor loads them). */
  readonly usesProfiles: boolean
  readonly #freqWindowMs: number
  readonly #freqMax: number
  /**
   * Upper bound of the bytes `encodeTraceInto` and the rules_fired list write: ids, JSON
   * syntax, and at most 16 fields of at most 32 bytes per rule (flat traces of numbers,
   * booleans and identifier strings). A trace that breaks it fails its write with a RangeError.
   */
  readonly maxTraceBytes: number
  /** `{"id":` of the first rule, `,"id":` of the others. */
  readonly #traceKeys: readonly Uint8Array[]

  constructor(readonly ruleSet: RuleSet) {
    this.rules = ruleSet.rules.map(compileRule)
    this.historyMs = Math.max(DEFAULT_FREQUENCY.windowMs, ...this.rules.map(r => r.windowMs))
    this.usesProfiles = ruleSet.rules.some(
      r => r.type === 'amount_anomaly' && r.params.averageSource === 'profile'
    )
    const velocity = ruleSet.rules.find(r => r.type === 'velocity')
    this.#freqWindowMs = velocity
      ? Math.round((velocity.params.windowSeconds as number) * 1000)
      : DEFAULT_FREQUENCY.windowMs
    this.#freqMax = velocity ? (velocity.params.maxCount as number) : DEFAULT_FREQUENCY.max
    this.maxTraceBytes = this.rules.reduce((n, r) => n + 2 * r.spec.id.length + 16 + 16 * 32, 8)
    this.#traceKeys = this.rules.map((r, i) => bytesOf(`${i === 0 ? '{' : ','}"${r.spec.id}":`))
  }

  /** `encodeTrace` written as bytes (the same text), without building strings. */
  encodeTraceInto(ev: Evaluation, w: ByteWriter): void {
    const rules = this.rules
    const keys = this.#traceKeys
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!
      w.put(keys[i]!)
      const t = ev.trace[r.spec.id]!
      if (r.encodeInto !== undefined) r.encodeInto(t, w)
      else w.text(r.encode(t))
    }
    w.text(rules.length === 0 ? '{}' : '}')
  }

  /** JSON of an evaluation's trace (same as JSON.stringify(ev.trace), several times faster). */
  encodeTrace(ev: Evaluation): string {
    let out = '{'
    const rules = this.rules
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!
      out += `${i === 0 ? '' : ','}"${r.spec.id}":${r.encode(ev.trace[r.spec.id]!)}`
    }
    return out + '}'
  }

  evaluate(ctx: RuleContext): Evaluation {
    const trace: Record<string, RuleTrace> = {}
    const fired: string[] = []
    let fraudHits = 0
    let weightSum = 0
    for (const rule of this.rules) {
      const t = rule.evaluate(ctx)
      trace[rule.spec.id] = t
      if (t.fired) {
        fired.push(rule.spec.id)
        weightSum += rule.spec.weight
        if (rule.spec.fraud) fraudHits++
      }
    }
    const c = ctx.customer
    const average = c.avgSpend ?? (c.count > 0 ? c.sum / c.count : Number.NaN)
    return {
      trace,
      fired,
      fraud: fraudHits > 0,
      fraudHits,
      weightSum,
      windowCount: countInWindow(ctx, this.#freqWindowMs),
      windowMax: this.#freqMax,
      ratio: average > 0 ? ctx.amount / average : Number.NaN
    }
  }
}
