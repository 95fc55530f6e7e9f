import { DaroogheError } from '../../errors.ts'
import { DEFAULT_LIMITS, type RecordLimits } from '../../domain/limits.ts'
import { DEFAULT_VALIDATION, type ValidationOptions } from '../../domain/validate.ts'
import type { Clock } from '../../stream/clock.ts'
import { DEFAULT_REPLY_TOPIC, isTopicName } from '../../domain/reply.ts'

/** Output topics of the processor (SPEC 2 and 5.5). Every name is configurable. */
export interface ProcessorTopics {
  /** Approved decisions. Default 'darooghe.transactions.approved'. */
  readonly approved: string
  /** Fraud decisions. Default 'darooghe.transactions.fraud'. */
  readonly fraud: string
  /** Alerts (fraud, or risk score above the threshold). Default 'darooghe.fraud_alerts'. */
  readonly alerts: string
  /** Validation failures. Default 'darooghe.error_logs'. */
  readonly errors: string
}

export const DEFAULT_TOPICS: ProcessorTopics = Object.freeze({
  approved: 'darooghe.transactions.approved',
  fraud: 'darooghe.transactions.fraud',
  alerts: 'darooghe.fraud_alerts',
  errors: 'darooghe.error_logs'
})

export interface ProcessorOptions {
  readonly topics: ProcessorTopics
  /**
   * How far behind its customer's latest event time an event may be and still be on time, ms;
   * one further behind is decided too, flagged late. Default 30 000.
   */
  readonly allowedLatenessMs: number
  /** An alert is raised when the decision is fraud or the risk score is above this. Default 80. */
  readonly alertThreshold: number
  /** Validation bounds (clock skew, maximum age, amount tolerance). Default DEFAULT_VALIDATION. */
  readonly validation: ValidationOptions
  /**
   * Limits of a record (size, nesting, string length, fields), checked before any parsing; a
   * record beyond one is an ERR_SCHEMA error naming it. Default DEFAULT_LIMITS (64 KiB, 32 deep,
   * 8 KiB strings, 1,000 fields).
   */
  readonly limits: RecordLimits
  /** Keyed-state values kept in memory; least recently used are evicted beyond. Default 200 000. */
  readonly maxCachedEntries: number
  /** Recent transactions kept per customer (on top of the time horizon). Default 64. */
  readonly maxRecentPerCustomer: number
  /** Known locations kept per customer. Default 20. */
  readonly maxKnownLocations: number
  /** Known merchants kept per customer. Default 20. */
  readonly maxKnownMerchants: number
  /**
   * State is written as a per-partition journal of changes, and a partition's changed values
   * are snapshotted (its journal deleted) once the journal would pass this many bytes; 0
   * snapshots every batch. Restoring a partition replays at most this much. Default 16 MiB: a
   * compaction costs about as much whatever the limit (it writes each value changed since the
   * last one, at most the partition's keys), so a larger journal makes it rarer; at 4 MiB a
   * detector at 45k events/s compacted a partition every few seconds, a tenth of its time.
   */
  readonly journalMaxBytes: number
  /** Prefix of every state key (the Redis store adds its own prefix too). Default ''. */
  readonly keyPrefix: string
  /** Return a per-record outcome summary with each batch (backtests). Default false. */
  readonly collectOutcomes: boolean
  /**
   * Topics a record may name in its `darooghe-reply-to` header (src/domain/reply.ts): its
   * decision record is also written there. Only these, so that a header cannot make the detector
   * write to (or create) any other topic. Default ['darooghe.decisions.replies']; [] replies to none.
   */
  readonly replyTopics: readonly string[]
}

export const DEFAULT_PROCESSOR_OPTIONS: ProcessorOptions = Object.freeze({
  topics: DEFAULT_TOPICS,
  allowedLatenessMs: 30_000,
  alertThreshold: 80,
  validation: DEFAULT_VALIDATION,
  limits: DEFAULT_LIMITS,
  maxCachedEntries: 200_000,
  maxRecentPerCustomer: 64,
  maxKnownLocations: 20,
  maxKnownMerchants: 20,
  journalMaxBytes: 16 << 20,
  keyPrefix: '',
  collectOutcomes: false,
  replyTopics: Object.freeze([DEFAULT_REPLY_TOPIC])
})

export type ProcessorOverrides = Partial<Omit<ProcessorOptions, 'topics' | 'validation' | 'limits'>> & {
  readonly topics?: Partial<ProcessorTopics>
  readonly validation?: Partial<ValidationOptions>
  readonly limits?: Partial<RecordLimits>
}

/**
 * The least each limit may be set to: room for every valid event (ids of 256 characters, the
 * 18 fields of the event and its location, nested two deep).
 */
const LIMIT_FLOORS: Readonly<Record<keyof RecordLimits, [flag: string, min: number]>> = {
  maxEventBytes: ['--max-event-bytes', 1024],
  maxDepth: ['--max-depth', 2],
  maxStringBytes: ['--max-string-bytes', 512],
  maxFields: ['--max-fields', 32]
}

/** Merges overrides onto the defaults, validates, and freezes. Throws CONFIG with a one-line reason. */
export function processorOptions(overrides: ProcessorOverrides = {}): ProcessorOptions {
  const o: ProcessorOptions = {
    ...DEFAULT_PROCESSOR_OPTIONS,
    ...stripUndefined(overrides),
    topics: Object.freeze({ ...DEFAULT_TOPICS, ...stripUndefined(overrides.topics ?? {}) }),
    validation: Object.freeze({ ...DEFAULT_VALIDATION, ...stripUndefined(overrides.validation ?? {}) }),
    limits: Object.freeze({ ...DEFAULT_LIMITS, ...stripUndefined(overrides.limits ?? {}) }),
    replyTopics: Object.freeze([...(overrides.replyTopics ?? DEFAULT_PROCESSOR_OPTIONS.replyTopics)])
  }
  const nonNegative = (name: string, v: number): void => {
    if (!(Number.isFinite(v) && v >= 0))
      throw new DaroogheError('CONFIG', `processor option ${name} must be a number >= 0 (got ${v})`)
  }
  const positiveInt = (name: string, v: number): void => {
    if (!(Number.isInteger(v) && v > 0))
      throw new DaroogheError('CONFIG', `processor option ${name} must be a positive integer (got ${v})`)
  }
  nonNegative('allowedLatenessMs', o.allowedLatenessMs)
  nonNegative('alertThreshold', o.alertThreshold)
  nonNegative('validation.maxFutureSkewMs', o.validation.maxFutureSkewMs)
  nonNegative('validation.maxAgeMs', o.validation.maxAgeMs)
  nonNegative('validation.amountTolerance', o.validation.amountTolerance)
  for (const key of Object.keys(LIMIT_FLOORS) as (keyof RecordLimits)[]) {
    const [flag, min] = LIMIT_FLOORS[key]
    const v = o.limits[key]
    if (!(Number.isInteger(v) && v >= min && v <= 1 << 30))
      throw new DaroogheError('CONFIG', `${flag} must be an integer from ${min} to ${1 << 30} (got ${v})`)
  }
  positiveInt('maxCachedEntries', o.maxCachedEntries)
  positiveInt('maxRecentPerCustomer', o.maxRecentPerCustomer)
  positiveInt('maxKnownLocations', o.maxKnownLocations)
  positiveInt('maxKnownMerchants', o.maxKnownMerchants)
  if (!(Number.isInteger(o.journalMaxBytes) && o.journalMaxBytes >= 0 && o.journalMaxBytes <= 256 << 20))
    throw new DaroogheError(
      'CONFIG',
      `processor option journalMaxBytes must be an integer from 0 to 268435456 (got ${o.journalMaxBytes})`
    )
  for (const [k, v] of Object.entries(o.topics)) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(v)) {
      throw new DaroogheError(
        'CONFIG',
        `topic name for ${k} must be 1-249 characters of letters, digits, . _ - (got '${v}')`
      )
    }
  }
  const outputs = new Set(Object.values(o.topics))
  for (const t of o.replyTopics) {
    if (typeof t !== 'string' || !isTopicName(t) || outputs.has(t))
      throw new DaroogheError(
        'CONFIG',
        `reply topic '${t}' must be a topic name (1-249 of letters, digits, . _ -) other than the output topics`
      )
  }
  return Object.freeze(o)
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** The wall clock, for production; tests pass a ManualClock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() })
