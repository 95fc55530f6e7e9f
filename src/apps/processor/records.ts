import type { ValidationCode } from '../../domain/event.ts'
import type { Evaluation } from '../../domain/rules/engine.ts'
import type { Validated } from '../../domain/validate.ts'

/**
 * A decoded, validated record. The value's text is not kept: records of a batch that wait for
 * its state load live until it ends, and the text would double what survives young GCs.
 */
export class Prepared {
  constructor(
    /** The parsed JSON; undefined when the bytes were not JSON (or the record had no value). */
    readonly value: unknown,
    readonly validated: Validated,
    readonly eventTimeMs: number
  ) {}
}

export const ERROR = 0
export const LATE = 1
export const DECIDED = 2
export const DUPLICATE = 3

/** What processing a record produced; outputs are encoded from it once processing time is known. */
export class Result {
  constructor(
    readonly kind: typeof ERROR | typeof LATE | typeof DECIDED | typeof DUPLICATE,
    readonly prepared: Prepared,
    readonly evaluation: Evaluation | null = null,
    readonly riskScore = 0,
    readonly watermarkMs = 0,
    /** `transactionKey` of a decided transaction's id (its journal entry keeps it). */
    readonly txnKey = 0
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
