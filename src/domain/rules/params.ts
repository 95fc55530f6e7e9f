import type { ParamValue, RuleType } from './types.ts'

/** How a parameter is checked; `what` completes "must be ...". */
interface ParamSchema {
  readonly default: ParamValue
  readonly check: (v: unknown) => boolean
  readonly what: string
}

const positive: Pick<ParamSchema, 'check' | 'what'> = {
  check: v => typeof v === 'number' && Number.isFinite(v) && v > 0,
  what: 'a positive number'
}
const nonNegative: Pick<ParamSchema, 'check' | 'what'> = {
  check: v => typeof v === 'number' && Number.isFinite(v) && v >= 0,
  what: 'a number >= 0'
}
const count: Pick<ParamSchema, 'check' | 'what'> = {
  check: v => Number.isInteger(v) && (v as number) >= 0,
  what: 'an integer >= 0'
}
const oneOf = (...values: string[]): Pick<ParamSchema, 'check' | 'what'> => ({
  check: v => typeof v === 'string' && values.includes(v),
  what: `one of ${values.map(v => `'${v}'`).join(', ')}`
})

/**
 * Parameters of every rule type, with the defaults of SPEC 5.3. Comparisons are strict where
 * the spec says "more than" / "less than"; windows include their start (see rules/README.md).
 */
export const PARAMS: Readonly<Record<RuleType, Readonly<Record<string, ParamSchema>>>> = {
  /** Fires when the customer's count within the window ending at this event (inclusive) > maxCount. */
  velocity: {
    maxCount: { default: 5, ...count },
    windowSeconds: { default: 120, ...positive }
  },
  /** Fires when the previous transaction in event time is > minKm away and < maxMinutes earlier. */
  impossible_travel: {
    minKm: { default: 50, ...nonNegative },
    maxMinutes: { default: 5, ...positive }
  },
  /**
   * Fires when amount > multiplier × average of previous transactions, with >= minHistory of
   * them. averageSource 'profile' prefers a seeded feature-store avg_spend when one exists.
   */
  amount_anomaly: {
    multiplier: { default: 10, ...positive },
    minHistory: { default: 3, ...count },
    averageSource: { default: 'history', ...oneOf('history', 'profile') }
  },
  /** Fires when the location moved > minKm from the previous transaction < maxMinutes earlier. */
  location_change: {
    minKm: { default: 1, ...nonNegative },
    maxMinutes: { default: 60, ...positive }
  },
  /** Fires when amount > minAmount and no known location lies within radiusKm (needs minHistory priors). */
  new_location_amount: {
    minAmount: { default: 20_000, ...nonNegative },
    radiusKm: { default: 1, ...nonNegative },
    minHistory: { default: 1, ...count }
  },
  /** Fires when amount > amount. */
  amount_threshold: {
    amount: { default: 900, ...nonNegative }
  }
}
