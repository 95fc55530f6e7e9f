import { DaroogheError } from '../../errors.ts'
import { fatalCodeReason, kafkaCode, kafkaCodeName } from './errors.ts'
import type { PartitionBatch, ProducerIdentity } from './produce-request.ts'

/**
 * The idempotent producer's bookkeeping, without I/O: which sequence numbers each partition
 * batch carries, what a produce response means for it, when to ask the brokers for leaders or
 * a new producer id again, and how long to wait before the next request. producer.ts does the
 * requests and asks this module what to do; the unit tests drive it with scripted responses.
 *
 * States of the producer identity:
 *   unidentified --adopt(id)--> identified --sequence lost (renumber)--> unidentified
 * An identity adopted anew (a new producer id or epoch) restarts every partition at sequence 0.
 *
 * States of a batch (one partition's records of one chunk):
 *   unnumbered --number()--> numbered(identity, baseSequence) --written/duplicate--> done
 *   numbered --retriable error (a leader moving, a timeout)--> numbered (same numbers, resent)
 *   numbered --sequence lost--> numbered under the old identity: renumbered once a new one is
 *     adopted (`number` sees the identity changed)
 *   numbered --fatal code--> the send fails (DaroogheError KAFKA_FATAL)
 */

/** A partition's records of one chunk, with what sending them taught us. */
export interface SequencedBatch extends PartitionBatch {
  /** The producer identity the sequence numbers were taken under; null: not numbered yet. */
  identity: ProducerIdentity | null
  done: boolean
  /** Offset of the first record, once written (-1 when unknown: acks=none). */
  baseOffset: number
}

/** What a partition's result in a produce response means. */
export type ResultKind = 'written' | 'sequence-lost' | 'fatal' | 'retry'

/** The broker already holds this batch (a retry after a lost response): it counts as written. */
export const DUPLICATE_SEQUENCE_NUMBER = kafkaCode('DUPLICATE_SEQUENCE_NUMBER')
const SEQUENCE_LOST = new Set(
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'UNKNOWN_PRODUCER_ID'].map(kafkaCode)
)
/**
 * Partition error codes of a produce that no later attempt gets past (the records or the
 * permissions are wrong); every other code is retried, as the leader-moving ones must be.
 */
const FATAL_PRODUCE = new Set(
  [
    'MESSAGE_TOO_LARGE',
    'INVALID_TOPIC_EXCEPTION',
    'RECORD_LIST_TOO_LARGE',
    'INVALID_REQUIRED_ACKS',
    'TOPIC_AUTHORIZATION_FAILED',
    'CLUSTER_AUTHORIZATION_FAILED',
    'INVALID_TIMESTAMP',
    'UNSUPPORTED_FOR_MESSAGE_FORMAT',
    'POLICY_VIOLATION',
    'INVALID_RECORD',
    // The broker does not take this compression.type (zstd before Kafka 2.1).
    'UNSUPPORTED_COMPRESSION_TYPE'
  ].map(kafkaCode)
)

export function classifyResult(code: number): ResultKind {
  if (code === 0 || code === DUPLICATE_SEQUENCE_NUMBER) return 'written'
  if (SEQUENCE_LOST.has(code)) return 'sequence-lost'
  if (FATAL_PRODUCE.has(code)) return 'fatal'
  // Leaders moving, a broker restarting, or a code this client does not know.
  return 'retry'
}

/** Per-partition sequence numbers under the current producer identity. */
export class Sequencer {
  readonly #next = new Map<string, number>()
  #identity: ProducerIdentity | null = null
  #lost = false

  /** 'identified' once a producer id is adopted; 'unidentified' before, and after a loss. */
  get state(): 'unidentified' | 'identified' {
    return this.#identity === null || this.#lost ? 'unidentified' : 'identified'
  }

  get identity(): ProducerIdentity | null {
    return this.#identity
  }

  /** The producer id and epoch to number batches under; a new one restarts every partition at 0. */
  adopt(identity: ProducerIdentity): void {
    if (identity !== this.#identity) this.#next.clear()
    this.#identity = identity
    this.#lost = false
  }

  /** The broker no longer knows our sequences: a new producer id is needed before the next send. */
  lose(): void {
    this.#lost = true
  }

  /**
   * Gives the batch its sequence numbers under the current identity, unless it has them already
   * (a resend keeps its numbers, so the broker writes it at most once). Numbers are taken for
   * good: a batch abandoned unsent leaves a gap that the broker answers OUT_OF_ORDER_SEQUENCE.
   */
  number(batch: SequencedBatch): void {
    const identity = this.#identity
    if (identity === null || batch.identity === identity) return
    const key = `${batch.topic}:${batch.partition}`
    const first = this.#next.get(key) ?? 0
    this.#next.set(key, (first + batch.indexes.length) % 2 ** 31) // they wrap at 2^31
    batch.baseSequence = first
    batch.identity = identity
  }
}

/**
 * One chunk's delivery: its pending batches go to their leaders, attempt after attempt, until
 * all are written, an attempt finds a fatal error, or the retries run out. Notes why the last
 * attempt left batches pending (`stale`: look the leaders up again; `error`: the cause to report).
 */
export class Delivery {
  stale = false
  error: unknown = null
  #attempts = 0
  readonly #batches: readonly SequencedBatch[]
  readonly #sequencer: Sequencer
  readonly #retries: number
  readonly #retryDelayMs: number

  constructor(
    batches: readonly SequencedBatch[],
    sequencer: Sequencer,
    retries: number,
    retryDelayMs: number
  ) {
    this.#batches = batches
    this.#sequencer = sequencer
    this.#retries = retries
    this.#retryDelayMs = retryDelayMs
  }

  pending(): SequencedBatch[] {
    return this.#batches.filter(b => !b.done)
  }

  /**
   * Before the next attempt: how long to back off (0 for the first), or throws once the retries
   * are spent. Null when nothing is pending.
   */
  nextAttempt(): number | null {
    const pending = this.pending()
    if (pending.length === 0) return null
    const attempt = this.#attempts++
    if (attempt > this.#retries) {
      throw new DaroogheError(
        'KAFKA',
        `produce to ${pending.map(b => `${b.topic}:${b.partition}`).join(', ')} failed after ${attempt} attempts`,
        { cause: this.error }
      )
    }
    return attempt === 0 ? 0 : Math.min(this.#retryDelayMs * 2 ** (attempt - 1), 4_000)
  }

  /**
   * The pending batches, numbered under the current identity, grouped by the leader of their
   * partition; a partition without a leader waits for the next attempt (leaders looked up again).
   */
  plan(leaderOf: (topic: string, partition: number) => number): Map<number, SequencedBatch[]> {
    this.stale = false
    const byLeader = new Map<number, SequencedBatch[]>()
    for (const b of this.pending()) {
      this.#sequencer.number(b)
      const leader = leaderOf(b.topic, b.partition)
      if (leader < 0) {
        this.stale = true
        continue
      }
      const list = byLeader.get(leader)
      if (list) list.push(b)
      else byLeader.set(leader, [b])
    }
    return byLeader
  }

  /** A request failed as a whole (a connection lost, a timeout): its batches are resent. */
  requestFailed(error: unknown): void {
    this.error = error
    this.stale = true
  }

  /**
   * A partition's result. `renumber`: a lost sequence asks for a new producer id (the first,
   * concurrent round of a multi-request send leaves that to the retries, which go in order).
   * Throws DaroogheError KAFKA_FATAL for a code no retry passes.
   */
  result(
    batch: SequencedBatch,
    code: number,
    baseOffset: number,
    error: () => Error,
    renumber: boolean
  ): ResultKind {
    const kind = classifyResult(code)
    if (kind === 'written') {
      batch.done = true
      batch.baseOffset = baseOffset
    } else if (kind === 'sequence-lost') {
      this.error = error()
      if (renumber) this.#sequencer.lose()
    } else if (kind === 'fatal') {
      const reason = fatalCodeReason(code) ?? `Kafka ${kafkaCodeName(code)} (${code})`
      throw new DaroogheError(
        'KAFKA_FATAL',
        `produce to ${batch.topic}:${batch.partition} refused: ${reason}`,
        {
          cause: error()
        }
      )
    } else {
      this.error = error()
      this.stale = true
    }
    return kind
  }
}

/**
 * Broker quotas: a response with throttle_time_ms > 0 asks the client not to send to that broker
 * again before the time is up (KIP-219). Per broker id.
 */
export class Throttle {
  readonly #until = new Map<number, number>()

  note(broker: number, throttleTimeMs: number, now: number): void {
    if (throttleTimeMs > 0)
      this.#until.set(broker, Math.max(this.#until.get(broker) ?? 0, now + throttleTimeMs))
  }

  /** How long to wait before the next request to `broker`, ms. */
  delay(broker: number, now: number): number {
    const until = this.#until.get(broker)
    if (until === undefined) return 0
    if (until <= now) {
      this.#until.delete(broker)
      return 0
    }
    return until - now
  }
}
