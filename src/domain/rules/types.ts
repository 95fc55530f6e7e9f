/**
 * Rules are data: a rule set file names parameterised rule types (see `params.ts`), and
 * `compileRuleSet` turns it into evaluators. Everything here is pure.
 */
export const RULE_TYPES = [
  'velocity',
  'impossible_travel',
  'amount_anomaly',
  'location_change',
  'new_location_amount',
  'amount_threshold'
] as const
export type RuleType = (typeof RULE_TYPES)[number]

export type ParamValue = number | string

/** One rule of a rule set, validated and with every parameter filled in. */
export interface RuleSpec {
  readonly id: string
  readonly type: RuleType
  readonly params: Readonly<Record<string, ParamValue>>
  /** A firing fraud rule makes the decision `fraud`; other rules only add to the risk score. */
  readonly fraud: boolean
  /** Risk-score points added when the rule fires. Default 25 for fraud rules, 10 otherwise. */
  readonly weight: number
  readonly description: string
}

export interface RuleSet {
  readonly name: string
  readonly description: string
  readonly rules: readonly RuleSpec[]
  /** Where the set was read from, for messages. */
  readonly source: string
}

/** The numbers behind one rule's verdict, as they appear in a decision's `trace`. */
export interface RuleTrace {
  readonly fired: boolean
  readonly [k: string]: number | string | boolean
}
