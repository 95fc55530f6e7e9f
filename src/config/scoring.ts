import {
  createProcessor,
  loadRuleSet,
  processorOptions,
  type Processor,
  type ProcessorOptions
} from '../apps/processor/index.ts'
import type { RecordLimits } from '../domain/limits.ts'
import { DaroogheError } from '../errors.ts'
import type { StateStore } from '../ports/state-store.ts'
import type { Clock } from '../stream/clock.ts'
import { parseDuration, parseSize } from './units.ts'

/** The flags that decide how events are scored (`detect`, `replay`; see scoringOptions in the CLI). */
export interface ScoringFlags {
  rules: string
  allowedLateness: string
  alertThreshold: string
  maxEventAge: string
  maxClockSkew: string
  labels?: string
  /** Output topic overrides (Kafka mode); undefined entries keep the defaults. */
  topics?: Partial<Record<'approved' | 'fraud' | 'alerts' | 'errors', string | undefined>>
  /** Namespace of the state keys (Kafka mode: the consumer group, like an application id). */
  keyPrefix?: string
  /** Comma-separated topics a record may ask to be replied on (request-reply); '' for none. */
  replyTopics?: string
  /** Journal size past which a partition's state is snapshotted (e.g. '16MiB'). */
  stateJournal?: string
  maxEventBytes?: string
  maxDepth?: string
  maxStringBytes?: string
  maxFields?: string
}

/** How events are scored, checked: the rule set's name or file, and the processor's options. */
export interface ScoringConfig {
  readonly rules: string
  readonly options: ProcessorOptions
}

/** `--reply-topics a,b`: the list, [] for '', undefined (the default) when absent. */
export function replyTopicsFrom(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value
    .split(',')
    .map(t => t.trim())
    .filter(t => t !== '')
}

/** The record limits of the flags; unset ones keep their defaults (processorOptions checks them). */
function limitsFromFlags(flags: ScoringFlags): Partial<RecordLimits> {
  const int = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined
    if (!/^\d+$/.test(text.trim()))
      throw new DaroogheError('USAGE', `${flag} must be a positive integer (got '${text}')`)
    return Number(text)
  }
  return {
    maxEventBytes:
      flags.maxEventBytes === undefined ? undefined : parseSize(flags.maxEventBytes, '--max-event-bytes'),
    maxDepth: int(flags.maxDepth, '--max-depth'),
    maxStringBytes:
      flags.maxStringBytes === undefined ? undefined : parseSize(flags.maxStringBytes, '--max-string-bytes'),
    maxFields: int(flags.maxFields, '--max-fields')
  }
}

export function scoringFrom(flags: ScoringFlags): ScoringConfig {
  const threshold = Number(flags.alertThreshold)
  if (!(threshold >= 0 && threshold <= 100)) {
    throw new DaroogheError(
      'USAGE',
      `--alert-threshold must be a number from 0 to 100 (got '${flags.alertThreshold}')`
    )
  }
  const options = processorOptions({
    allowedLatenessMs: parseDuration(flags.allowedLateness, '--allowed-lateness'),
    alertThreshold: threshold,
    validation: {
      maxAgeMs: parseDuration(flags.maxEventAge, '--max-event-age'),
      maxFutureSkewMs: parseDuration(flags.maxClockSkew, '--max-clock-skew')
    },
    limits: limitsFromFlags(flags),
    collectOutcomes: flags.labels !== undefined,
    topics: flags.topics,
    keyPrefix: flags.keyPrefix,
    replyTopics: replyTopicsFrom(flags.replyTopics),
    journalMaxBytes: parseSize(flags.stateJournal ?? '16MiB', '--state-journal')
  })
  return Object.freeze({ rules: flags.rules, options })
}

/** The processor of a scoring configuration, on `store`; the rule set is loaded here. */
export function processorFrom(
  scoring: ScoringConfig,
  store: StateStore,
  clock: Clock,
  delivery: 'state-first' | 'outputs-first' = 'state-first'
): Processor {
  return createProcessor({
    store,
    ruleSet: loadRuleSet(scoring.rules),
    clock,
    options: scoring.options,
    delivery
  })
}

/** Builds the processor straight from the flags common to file and Kafka modes. */
export function processorFromFlags(
  flags: ScoringFlags,
  store: StateStore,
  clock: Clock,
  delivery: 'state-first' | 'outputs-first' = 'state-first'
): Processor {
  return processorFrom(scoringFrom(flags), store, clock, delivery)
}
