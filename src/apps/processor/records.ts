import type { PaymentEvent, ValidationCode } from '../../domain/event.ts'
import { ScannedEvent } from '../../domain/event-scan.ts'
import type { LogRecord } from '../../ports/log.ts'
import type { Evaluation } from '../../domain/rules/engine.ts'
import type { Validated } from '../../domain/validate.ts'

/** A validation that failed: what the error record reports. */
export type Failure = Extract<Validated, { ok: false }>

/** The fields of an invalid record: none. */
const NO_FIELDS = new ScannedEvent('', '', '', 0, 0, 0, Number.NaN)

/**
 * A decoded, validated record: the few fields processing reads. The value's text is not kept:
 * records of a batch that wait for its state load live until it ends, and the text would
 * double what survives young GCs. Valid events read straight from their bytes (event-scan.ts)
 * have no decoded object at all; `event()` parses one for the rare outputs that need it.
 */
export class Prepared {
  constructor(
    /** What processing reads; empty (event time NaN) when the record is invalid. */
    readonly fields: ScannedEvent,
    /** Null when valid. */
    readonly failure: Failure | null,
    /** The parsed JSON when the record went through JSON.parse; undefined otherwise. */
    readonly value: unknown
  ) {}

  static valid(e: PaymentEvent, eventTimeMs: number): Prepared {
    const loc = e.location
    const fields = new ScannedEvent(
      e.transaction_id,
      e.customer_id,
      e.merchant_id,
      e.amount,
      loc.lat,
      loc.lng,
      eventTimeMs
    )
    return new Prepared(fields, null, e)
  }

  static scanned(s: ScannedEvent): Prepared {
    return new Prepared(s, null, undefined)
  }

  /** `value`: the parsed JSON, or undefined when the bytes were not JSON (or absent). */
  static invalid(failure: Failure, value: unknown): Prepared {
    return new Prepared(NO_FIELDS, failure, value)
  }

  get ok(): boolean {
    return this.failure === null
  }

  /** The valid event as decoded JSON (parsed again from `rec`'s bytes when it was scanned). */
  event(rec: LogRecord): PaymentEvent {
    return (this.value ?? JSON.parse(rec.value!.toString('utf8'))) as PaymentEvent
  }
}

export const ERROR = 0
export const DECIDED = 2
export const DUPLICATE = 3

/** What processing a record produced; outputs are encoded from it once processing time is known. */
export class Result {
  constructor(
    readonly kind: typeof ERROR | typeof DECIDED | typeof DUPLICATE,
    readonly prepared: Prepared,
    readonly evaluation: Evaluation | null = null,
    readonly riskScore = 0,
    /**
     * A decision late for its customer: how far its event time is behind the customer's latest
     * (more than the allowed lateness); 0 when on time.
     */
    readonly latenessMs = 0,
    /** `transactionKey` of a decided transaction's id (its journal entry keeps it). */
    readonly txnKey = 0
  ) {}
}

/** One record's outcome, for backtests (`collectOutcomes`). */
export interface Outcome {
  readonly transactionId: string | null
  readonly partition: number
  readonly offset: number
  readonly outcome: 'approved' | 'fraud' | 'error' | 'duplicate'
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
  /** Decisions late for their customer (also counted in approved or fraud). */
  late = 0
  duplicateTransactionIds = 0
  errorCodes: Partial<Record<ValidationCode, number>> = {}
  ruleHits: Record<string, number> = {}
  latencyMaxMs = 0
  latencySumMs = 0
  outcomes: Outcome[] = []
}
