import { Consumer, stringDeserializer } from '@platformatic/kafka'
import { DaroogheError } from '../../errors.ts'
import type {
  BatchHandler,
  ConsumerOptions,
  LogConsumer,
  LogRecord,
  TopicPartition
} from '../../ports/log.ts'
import { KafkaFetcher } from './fetcher.ts'
import { baseOptions, type KafkaConnection } from './options.ts'
import type { KafkaLogProducer, TransactionOffset } from './producer.ts'

export interface KafkaConsumerOptions extends KafkaConnection, ConsumerOptions {
  /** Session timeout of the group member, ms. Default 10 000. */
  readonly sessionTimeoutMs?: number
  /** Heartbeat interval, ms. Default 1 000. */
  readonly heartbeatIntervalMs?: number
  /**
   * Exactly-once: commit each batch's offsets inside this producer's transaction (with the
   * batch's outputs) instead of a plain offset commit.
   */
  readonly transactionalProducer?: KafkaLogProducer
}

/**
 * Batch-shaped consumer. Group membership, heartbeats and offset commits are
 * @platformatic/kafka's Consumer; the records come from our fetcher (fetcher.ts), which
 * decodes fetch responses straight into LogRecords. Each fetch round is cut into batches of
 * up to `maxBatchRecords` for `onBatch`, and the next round is already in flight while the
 * last batch of a round is processed. A batch's offsets (last + 1 per partition) are
 * committed only once `onBatch` resolved; that commit overlaps the next batch.
 *
 * On every group join the fetch positions are set again from the committed offsets (after
 * our own last commit landed) and whatever was fetched for the old assignment is dropped:
 * the new owner of a partition reads it from its committed offset.
 */
export class KafkaLogConsumer implements LogConsumer {
  readonly #consumer: Consumer<Buffer, Buffer, string, string>
  readonly #options: KafkaConsumerOptions
  #fetcher: KafkaFetcher | null = null
  #assignment: TopicPartition[] = []
  #owned = new Set<string>()
  #assignmentChanged = false
  #closing = false
  /** The commit of the last handed-out batch (in flight while the next one is processed). */
  #committing: Promise<void> = Promise.resolve()
  /** The fetch round being cut into batches, and the position of the next batch in it. */
  #round: LogRecord[] = []
  #at = 0
  #maxBatch = 5_000
  /** The next round's fetch, and its records once it resolved. */
  #next: Promise<LogRecord[]> | null = null
  #prefetched: LogRecord[] | null = null
  /** The next batch, already cut by `peekNext`: the loop hands out this very array. */
  #upcoming: LogRecord[] | null = null

  constructor(options: KafkaConsumerOptions) {
    this.#options = options
    this.#consumer = new Consumer({
      ...baseOptions(options, 'consumer'),
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: 30_000,
      deserializers: { headerKey: stringDeserializer, headerValue: stringDeserializer }
    })
    this.#consumer.on('consumer:group:join', payload => {
      const assigned: TopicPartition[] = []
      for (const a of payload.assignments ?? []) {
        for (const partition of a.partitions) assigned.push({ topic: a.topic, partition })
      }
      this.#assignment = assigned
      this.#owned = new Set(assigned.map(tp => `${tp.topic}:${tp.partition}`))
      this.#assignmentChanged = true
    })
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment
  }

  async run(handler: BatchHandler): Promise<void> {
    const o = this.#options
    // Members joining at the same moment (`detect --workers N`, a rolling restart) can exhaust
    // the client's join retries while the group rebalances: keep trying, with backoff.
    for (let attempt = 1; ; attempt++) {
      try {
        this.#consumer.topics.trackAll(...o.topics)
        await this.#consumer.joinGroup({})
        break
      } catch (cause) {
        // Closed while joining (Ctrl-C at start-up): nothing was consumed, nothing to report.
        if (this.#closing) return
        if (attempt >= 8) {
          throw new DaroogheError('KAFKA', `could not join group '${o.groupId}' on ${o.topics.join(', ')}`, {
            cause
          })
        }
        await new Promise(r => setTimeout(r, Math.min(250 * 2 ** attempt, 4_000)))
      }
    }
    if (this.#closing) return
    this.#fetcher = new KafkaFetcher(this.#consumer, {
      maxWaitMs: o.maxWaitMs ?? 100,
      readCommitted: o.readCommitted ?? true,
      fromBeginning: o.fromBeginning ?? true
    })
    this.#maxBatch = o.maxBatchRecords ?? 5_000
    try {
      await this.#loop(this.#fetcher, handler)
    } catch (error) {
      // Closing pulls the connections from under a fetch in flight: that is no failure.
      if (!this.#closing) throw error
    }
  }

  /**
   * The batch the next `onBatch` receives, when its records are already fetched and the
   * assignment does not change first; null otherwise. A handler waiting for I/O can start on
   * it (decoding, say): the loop then hands out this same array.
   */
  peekNext(): readonly LogRecord[] | null {
    if (this.#upcoming !== null) return this.#upcoming
    if (this.#assignmentChanged || this.#closing) return null
    if (this.#at >= this.#round.length) {
      const fetched = this.#prefetched
      if (fetched === null || fetched.length === 0) return null
      this.#startRound(fetched)
    }
    this.#upcoming = this.#cut()
    return this.#upcoming
  }

  #startRound(records: LogRecord[]): void {
    this.#round = records
    this.#at = 0
    this.#next = null
    this.#prefetched = null
  }

  /** The next batch of the round; the last one of a round starts the next round's fetch. */
  #cut(): LogRecord[] {
    const batch = this.#round.slice(this.#at, this.#at + this.#maxBatch)
    this.#at += batch.length
    if (this.#at >= this.#round.length) {
      // Prefetch: the broker prepares the next round while this batch is processed.
      const next = this.#retrying('fetch', () => this.#fetcher!.fetch())
      this.#next = next
      next.then(
        records => {
          if (this.#next === next) this.#prefetched = records
        },
        () => {}
      )
    }
    return batch
  }

  async #loop(fetcher: KafkaFetcher, handler: BatchHandler): Promise<void> {
    while (!this.#closing) {
      if (this.#assignmentChanged) {
        this.#assignmentChanged = false
        // Records fetched for the old assignment are dropped, and positions come from the
        // committed offsets, which must include our own last commit first.
        await this.#next?.catch(() => {})
        this.#startRound([])
        this.#upcoming = null
        await this.#committing
        await this.#retrying('read the committed offsets', () => fetcher.seek(this.#assignment))
        await handler.onAssignment?.(this.#assignment)
        continue
      }
      let batch = this.#upcoming
      this.#upcoming = null
      if (batch === null) {
        if (this.#at >= this.#round.length) {
          const records = await (this.#next ?? this.#retrying('fetch', () => fetcher.fetch()))
          if (this.#assignmentChanged || this.#closing) continue
          this.#startRound(records)
          // Nothing within maxWaitMs (or no partitions yet): ask again.
          if (records.length === 0) continue
        }
        batch = this.#cut()
      }
      await handler.onBatch(batch)
      const tx = this.#options.transactionalProducer
      if (tx) await tx.commitTransaction(this.#consumer, this.#transactionOffsets(batch))
      else {
        // This batch's commit overlaps the processing of the next one; commits stay in order,
        // and a failed one surfaces here at the next batch (or when the loop ends).
        const offsets = this.#offsetsOf(batch)
        await this.#committing
        this.#committing = this.#commit(offsets)
        this.#committing.catch(() => {})
      }
    }
    await this.#next?.catch(() => {})
    await this.#committing
  }

  /**
   * Runs a fetch-side call, retrying with backoff (as the client retries its own requests):
   * a broker restart or leader move heals within a few attempts; after those the error
   * surfaces as one retriable KAFKA error.
   */
  async #retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    const retries = this.#options.retries ?? 5
    const delay = this.#options.retryDelayMs ?? 250
    for (let attempt = 0; ; attempt++) {
      try {
        return await call()
      } catch (cause) {
        if (this.#closing) throw cause
        if (attempt >= retries) {
          throw new DaroogheError('KAFKA', `could not ${what} from Kafka after ${retries + 1} attempts`, {
            cause
          })
        }
        await new Promise(r => setTimeout(r, Math.min(delay * 2 ** attempt, 4_000)))
      }
    }
  }

  /** The last record of each owned partition in the batch, as the transaction commits it. */
  #transactionOffsets(batch: readonly LogRecord[]): TransactionOffset[] {
    const c = this.#consumer
    const consumer = {
      groupId: c.groupId,
      memberId: c.memberId ?? '',
      generationId: c.generationId,
      coordinatorId: c.coordinatorId ?? -1
    }
    return this.#offsetsOf(batch).map(o => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset - 1n,
      metadata: { consumer }
    }))
  }

  #offsetsOf(batch: readonly LogRecord[]): CommitOffset[] {
    // A fetched batch holds each partition's records as one run: look a partition up only
    // where the run changes, not once per record.
    const next = new Map<string, { topic: string; partition: number; offset: number }>()
    let cur: { topic: string; partition: number; offset: number } | undefined
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!
      if (cur === undefined || cur.topic !== r.topic || cur.partition !== r.partition) {
        const k = `${r.topic}:${r.partition}`
        cur = next.get(k)
        if (cur === undefined)
          next.set(k, (cur = { topic: r.topic, partition: r.partition, offset: r.offset + 1 }))
      }
      if (r.offset + 1 > cur.offset) cur.offset = r.offset + 1
    }
    return [...next.values()]
      .filter(o => this.#owned.has(`${o.topic}:${o.partition}`))
      .map(o => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 }))
  }

  async #commit(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return
    try {
      await this.#consumer.commit({ offsets })
    } catch (cause) {
      // A rebalance between processing and commit makes the commit fail; the new owner
      // re-reads from the last committed offset and the processor's dedupe absorbs it.
      if (this.#closing) return
      if (isRebalanceError(cause)) return
      throw new DaroogheError('KAFKA', 'offset commit failed', { cause })
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    // The last batch's commit may still be in flight: let it land before the client goes.
    await this.#committing.catch(() => {})
    try {
      await this.#fetcher?.close()
    } finally {
      await this.#consumer.close(true)
    }
  }
}

interface CommitOffset {
  topic: string
  partition: number
  offset: bigint
  leaderEpoch: number
}

function isRebalanceError(error: unknown): boolean {
  const text =
    String((error as Error)?.message ?? '') + JSON.stringify((error as { errors?: unknown })?.errors ?? '')
  return /REBALANCE_IN_PROGRESS|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|FENCED|rebalanc/i.test(text)
}
