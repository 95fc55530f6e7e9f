import { DaroogheError } from '../../errors.ts'

/** Options of the payment-event generator ("pulse"). Every field but `start` has a default. */
export interface GeneratorOptions {
  /**
   * Event time of the start of the live stream, epoch milliseconds. Required: the library
   * never reads the clock; a live run passes `Date.now()` at launch, a reproducible run a
   * fixed instant. History events lie before it.
   */
  start: number
  /** Seed of every random choice; same seed, options and `start` → byte-identical output. Default `'darooghe'`. */
  seed?: string | number
  /** Number of customers (`cust_1` … `cust_N`). Default 1000 (env `CUSTOMER_COUNT` in the CLI). */
  customers?: number
  /** Number of merchants (`merch_1` … `merch_N`). Default 50 (env `MERCHANT_COUNT`). */
  merchants?: number
  /**
   * Arrival process of the live stream:
   * - `undefined` (default): non-homogeneous Poisson with daily and weekly shape around
   *   `eventsPerMinute` (see arrivals.ts); the caller paces events on their event time.
   * - a number: exactly that many events per second of event time, evenly spaced.
   * - `'max'`: the same event times as the default, but the caller does not pace them.
   */
  rate?: number | 'max'
  /** Base rate of the Poisson process in events per minute (weekday daytime). Default 600 (env `EVENT_RATE`). */
  eventsPerMinute?: number
  /** Multiplier of the base rate in the midday and evening peak hours. Default 2 (env `PEAK_FACTOR`). */
  peakFactor?: number
  /** Fraction of live events labelled with a fraud scenario. Default 0.02 (env `FRAUD_RATE`), at most 0.25. */
  fraudRate?: number
  /** Fraction of ordinary events that are declined (with a failure_reason). Default 0.05 (env `DECLINED_RATE`). */
  declinedRate?: number
  /** Fraction of live events that are invalid (bad total, time, device, schema or JSON). Default 0.01, at most 0.25. */
  invalidRate?: number
  /** Number of live events, after which the stream ends. Default: unlimited. */
  count?: number
  /** Event-time span of the live stream in ms, after which it ends. Default: unlimited. */
  durationMs?: number
  /** Ordinary events backfilled before `start` and emitted before the live stream. Default 0. */
  history?: number
  /** Days before `start` over which the history is spread. Default 7. */
  historyDays?: number
}

export interface ResolvedGeneratorOptions {
  readonly start: number
  readonly seed: string
  readonly customers: number
  readonly merchants: number
  readonly rate: number | 'max' | 'nhpp'
  readonly eventsPerMinute: number
  readonly peakFactor: number
  readonly fraudRate: number
  readonly declinedRate: number
  readonly invalidRate: number
  /** `Infinity` when unlimited. */
  readonly count: number
  /** `Infinity` when unlimited. */
  readonly durationMs: number
  readonly history: number
  readonly historyDays: number
}

export const GENERATOR_DEFAULTS = Object.freeze({
  seed: 'darooghe',
  customers: 1000,
  merchants: 50,
  eventsPerMinute: 600,
  peakFactor: 2,
  fraudRate: 0.02,
  declinedRate: 0.05,
  invalidRate: 0.01,
  history: 0,
  historyDays: 7
})

/** Size of a history backfill when one is asked for without a size (DarooghePulse: 20,000 over 7 days). */
export const DEFAULT_HISTORY_EVENTS = 20_000
export const DEFAULT_HISTORY_DAYS = 7

/** Rates above these leave too few ordinary events to keep customers' habits meaningful. */
export const MAX_FRAUD_RATE = 0.25
export const MAX_INVALID_RATE = 0.25

function fail(name: string, rule: string, got: unknown): never {
  throw new DaroogheError('CONFIG', `${name} must be ${rule} (got ${JSON.stringify(got) ?? String(got)})`)
}

function integer(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(name, min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`, value)
  }
  return value
}

function fraction(name: string, value: unknown, max: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    fail(name, `a number from 0 to ${max}`, value)
  }
  return value
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    fail(name, 'a positive number', value)
  return value
}

/** Applies defaults and validates; throws `DaroogheError('CONFIG')` naming the bad option. */
export function resolveGeneratorOptions(options: GeneratorOptions): ResolvedGeneratorOptions {
  const d = GENERATOR_DEFAULTS
  if (typeof options.start !== 'number' || !Number.isFinite(options.start)) {
    fail('start', 'an epoch time in milliseconds', options.start)
  }
  const seed = options.seed ?? d.seed
  if (typeof seed !== 'string' && (typeof seed !== 'number' || !Number.isFinite(seed))) {
    fail('seed', 'a string or a number', seed)
  }
  let rate: number | 'max' | 'nhpp' = 'nhpp'
  if (options.rate === 'max') rate = 'max'
  else if (options.rate !== undefined) rate = positive('rate', options.rate, 1)
  const peakFactor = positive('peakFactor', options.peakFactor, d.peakFactor)
  const resolved: ResolvedGeneratorOptions = {
    start: Math.floor(options.start),
    seed: String(seed),
    customers: integer('customers', options.customers, 1, d.customers),
    merchants: integer('merchants', options.merchants, 1, d.merchants),
    rate,
    eventsPerMinute: positive('eventsPerMinute', options.eventsPerMinute, d.eventsPerMinute),
    peakFactor,
    fraudRate: fraction('fraudRate', options.fraudRate, MAX_FRAUD_RATE, d.fraudRate),
    declinedRate: fraction('declinedRate', options.declinedRate, 1, d.declinedRate),
    invalidRate: fraction('invalidRate', options.invalidRate, MAX_INVALID_RATE, d.invalidRate),
    count: options.count === undefined ? Infinity : integer('count', options.count, 0, 0),
    durationMs: options.durationMs === undefined ? Infinity : positive('durationMs', options.durationMs, 0),
    history: integer('history', options.history, 0, d.history),
    historyDays: positive('historyDays', options.historyDays, d.historyDays)
  }
  return Object.freeze(resolved)
}

/**
 * Highest sustained rate (events/s) at which `customers` can produce ordinary events
 * without any of them making more than 5 payments within 2 minutes (the default velocity
 * rule). Above it the generator has to reuse busy customers and ordinary traffic starts
 * to look like velocity fraud; callers should warn (e.g. suggest more customers).
 */
export function legitCapacityPerSecond(customers: number): number {
  // 5 events per 125 s window per customer (see CustomerState), at ~75 % utilisation so
  // that random picks still find a free customer quickly.
  return (customers * 5 * 0.75) / 125
}

/** Highest event-time rate (events/s) the arrival process will reach with these options. */
export function peakRatePerSecond(options: ResolvedGeneratorOptions): number {
  if (typeof options.rate === 'number') return options.rate
  return (options.eventsPerMinute / 60) * Math.max(1, options.peakFactor)
}
