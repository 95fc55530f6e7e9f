import { Consumer, stringDeserializer } from '@platformatic/kafka'
import { DaroogheError, describeError, redactSecrets } from '../../errors.ts'
import { silentLogger, type Logger } from '../../logger.ts'
import { Outage, retryOptions, type Resilience } from '../../retry.ts'
import type {
  BatchHandler,
  ConsumerOptions,
  LogConsumer,
  LogRecord,
  TopicPartition
} from '../../ports/log.ts'
import { kafkaCode, kafkaFailure, timedOut } from './errors.ts'
import { makeFetcher, type RecordFetcher } from './data-path.ts'
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
  /**
   * How long to retry through a Kafka outage, where to log it, which health tracker to tell.
   * Default: retry for ever, silently.
   */
  readonly resilience?: Resilience
}

/** Returned by a group operation that found the member must join again first. */
const REJOIN = Symbol('rejoin')

/**
 * Batch-shaped consumer. Group membership, heartbeats and offset commits are
 * @platformatic/kafka's Consumer; the records come from the fetcher of the data path
 * (data-path.ts): ours (fetcher.ts), which decodes fetch responses straight into LogRecords,
 * or the library's public fetch (library-fetcher.ts). Each fetch round is cut into batches of
 * up to `maxBatchRecords` for `onBatch`, and the next round is already in flight while the
 * last batch of a round is processed. A batch's offsets (last + 1 per partition) are
 * committed only once `onBatch` resolved; that commit overlaps the next batch.
 *
 * On every group join the fetch positions are set again from the committed offsets (after
 * our own last commit landed) and whatever was fetched for the old assignment is dropped:
 * the new owner of a partition reads it from its committed offset.
 *
 * Outages (a broker restarting, the coordinator or a leader moving, a partition of the
 * network) are retried with backoff for as long as `resilience.policy.retryForMs` allows
 * (default: for ever): joining, fetching, reading committed offsets, committing. The client
 * library gives up on each of those after a few attempts, and it leaves the group behind
 * without saying so (a failed heartbeat stops its heartbeats; a failed rejoin only emits
 * 'error'); so the loop checks the membership before each fetch and joins again itself. The
 * library also remembers the group coordinator for good: when the coordinator moved
 * (NOT_COORDINATOR), the client is replaced by a new one, which looks it up again.
 */
export class KafkaLogConsumer implements LogConsumer {
  #client: Consumer<Buffer, Buffer, string, string>
  readonly #options: KafkaConsumerOptions
  readonly #log: Logger
  #fetcher: RecordFetcher | null = null
  #assignment: TopicPartition[] = []
  #owned = new Set<string>()
  #assignmentChanged = false
  #closing = false
  /** Set when the library lost the membership: join again. */
  #memberLost = false
  /** Counts the clients made: a failure replaces the client only if it was the current one. */
  #clients = 0
  #rejoining: Promise<void> | null = null
  /**
   * Offset commits run off the batch path: at most one in flight, and the offsets of the batches
   * completed meanwhile wait in `#toCommit` (the latest per partition) for the next one.
   * `#committing` settles once nothing is left to commit; a commit that failed for good is
   * thrown by the loop.
   */
  #committing: Promise<void> = Promise.resolve()
  #toCommit = new Map<string, CommitOffset>()
  /**
   * Pipelined batches (BatchHandler.onBatch returned `durable`): settles once every one handed
   * out so far is durable (and queued for commit) or failed. A failure sets `#rewind`.
   */
  #durable: Promise<boolean> = Promise.resolve(true)
  #rewind = false
  #commitRunning = false
  #commitError: unknown = null
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
    this.#log = options.resilience?.log ?? silentLogger
    this.#client = this.#makeClient()
  }

  #makeClient(): Consumer<Buffer, Buffer, string, string> {
    this.#clients++
    const o = this.#options
    const client = new Consumer({
      ...baseOptions(o, 'consumer'),
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: 30_000,
      deserializers: { headerKey: stringDeserializer, headerValue: stringDeserializer }
    })
    client.on('consumer:group:join', payload => {
      if (client !== this.#client) return
      const assigned: TopicPartition[] = []
      for (const a of payload.assignments ?? []) {
        for (const partition of a.partitions) assigned.push({ topic: a.topic, partition })
      }
      this.#assignment = assigned
      this.#owned = new Set(assigned.map(tp => `${tp.topic}:${tp.partition}`))
      this.#assignmentChanged = true
    })
    // The library's own rejoin after a heartbeat error gave up: without a listener this
    // 'error' would end the process. The loop joins again (with our retries).
    client.on('error', (error: unknown) => {
      if (client !== this.#client || this.#closing) return
      this.#log.warn({ error: redactSecrets(describeError(error)) }, 'left the consumer group; joining again')
      this.#memberLost = true
    })
    client.topics.trackAll(...o.topics)
    return client
  }

  #makeFetcher(): RecordFetcher {
    const o = this.#options
    return makeFetcher(o.dataPath ?? 'direct', this.#client, {
      maxWaitMs: o.maxWaitMs ?? 100,
      readCommitted: o.readCommitted ?? true,
      fromBeginning: o.fromBeginning ?? true
    })
  }

  assignment(): readonly TopicPartition[] {
    return this.#assignment
  }

  behind(): ReadonlySet<string> {
    return this.#fetcher?.behind() ?? new Set()
  }

  async run(handler: BatchHandler): Promise<void> {
    const o = this.#options
    this.#fetcher = this.#makeFetcher()
    this.#maxBatch = o.maxBatchRecords ?? 5_000
    try {
      // Members joining at the same moment (`detect --workers N`, a rolling restart) can
      // exhaust the client's join retries while the group rebalances: keep trying, with backoff.
      await this.#rejoin()
      if (this.#closing) return
      await this.#loop(handler)
    } catch (error) {
      // Closing pulls the connections from under a call in flight: that is no failure.
      if (!this.#closing) throw error
    }
  }

  /**
   * Joins the group (again), retrying through outages; one join at a time, shared by the loop
   * and a commit that found the membership gone. A coordinator that moved gets a new client.
   */
  #rejoin(): Promise<void> {
    this.#rejoining ??= (async () => {
      try {
        const o = this.#options
        await this.#retrying(`join group '${o.groupId}' on ${o.topics.join(', ')}`, async () => {
          this.#memberLost = false
          await this.#client.joinGroup({})
        })
      } finally {
        this.#rejoining = null
      }
    })()
    return this.#rejoining
  }

  /**
   * A new client (and fetcher) when the group coordinator moved: the library looks the
   * coordinator up once per client. The member id and generation go over to it, so that its
   * commits still count and its join is the same member's (the group state moved with the
   * coordinator); having no heartbeat yet, it joins again from the loop.
   */
  #replaceClient(): void {
    const old = this.#client
    const oldFetcher = this.#fetcher
    this.#client = this.#makeClient()
    this.#client.memberId = old.memberId
    this.#client.generationId = old.generationId
    this.#fetcher = this.#makeFetcher()
    this.#log.info(
      { group: this.#options.groupId },
      'the group coordinator moved or a request timed out: reconnecting'
    )
    // No LeaveGroup from the old client: its coordinator is gone, and the member lives on.
    old.memberId = null
    old.close(true, () => {})
    oldFetcher?.close().catch(() => {})
  }

  /** Whether the library left the group without saying so (heartbeats stopped) or said so. */
  #needsRejoin(): boolean {
    return this.#memberLost || !this.#client.isActive()
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
      const next = this.#fetchRound()
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

  #fetchRound(): Promise<LogRecord[]> {
    return this.#retrying('fetch', () => this.#fetcher!.fetch()).then(r => (r === REJOIN ? [] : r))
  }

  async #loop(handler: BatchHandler): Promise<void> {
    const o = this.#options
    while (!this.#closing) {
      if (this.#commitError !== null) throw this.#commitError
      if (this.#rewind) {
        // A batch never became durable: every partition goes back to its committed offset,
        // once what did become durable before it is committed.
        this.#assignmentChanged = true
      }
      if (this.#needsRejoin()) {
        await this.#next?.catch(() => {})
        await this.#durable
        await this.#committing
        await this.#rejoin()
        continue
      }
      if (this.#assignmentChanged) {
        this.#assignmentChanged = false
        // Records fetched for the old assignment are dropped, and positions come from the
        // committed offsets, which must include our own last commit first.
        await this.#next?.catch(() => {})
        this.#startRound([])
        this.#upcoming = null
        // A failed chain is over once everything handed out before the seek has settled.
        await this.#durable
        this.#durable = Promise.resolve(true)
        this.#rewind = false
        await this.#committing
        const fetcher = this.#fetcher!
        const sought = await this.#retrying(
          'read the committed offsets',
          () => fetcher.seek(this.#assignment),
          true
        )
        if (sought === REJOIN || this.#assignmentChanged) {
          this.#assignmentChanged = true
          continue
        }
        // Starting at the end (no committed offset, not from the beginning): that end is
        // committed at once. Otherwise a partition with nothing to read yet would start at the
        // end again after the next join (a broker restart, a rebalance), skipping whatever
        // arrived on it in between.
        if (!(o.fromBeginning ?? true) && sought.length > 0) {
          const offsets = sought.map(d => ({ ...d, offset: BigInt(d.offset), leaderEpoch: -1 }))
          const pinned = await this.#retrying(
            'commit the start offsets',
            () => this.#client.commit({ offsets }),
            true
          )
          if (pinned === REJOIN || this.#assignmentChanged) {
            this.#assignmentChanged = true
            continue
          }
        }
        await handler.onAssignment?.(this.#assignment)
        continue
      }
      let batch = this.#upcoming
      this.#upcoming = null
      if (batch === null) {
        if (this.#at >= this.#round.length) {
          const records = await (this.#next ?? this.#fetchRound())
          if (this.#assignmentChanged || this.#closing) continue
          this.#startRound(records)
          // Nothing within maxWaitMs (or no partitions yet): ask again.
          if (records.length === 0) continue
        }
        batch = this.#cut()
      }
      const inFlight = await handler.onBatch(batch)
      const tx = this.#options.transactionalProducer
      if (tx) await this.#commitTransaction(tx, batch)
      else if (inFlight) this.#commitWhenDurable(inFlight.durable, this.#offsetsOf(batch))
      else this.#commitLater(this.#offsetsOf(batch))
    }
    await this.#next?.catch(() => {})
    await this.#durable
    await this.#committing
  }

  /**
   * Exactly-once: the batch's outputs and offsets in one transaction. When it fails for a
   * reason that may pass (the broker restarting), the transaction is aborted, so neither the
   * outputs nor the offsets count: the positions go back to the committed offsets and the
   * batch is delivered again (its state is already written: it re-emits its stored outputs).
   */
  async #commitTransaction(tx: KafkaLogProducer, batch: readonly LogRecord[]): Promise<void> {
    try {
      await tx.commitTransaction(this.#client, this.#transactionOffsets(batch))
    } catch (error) {
      if (this.#closing) return
      if (error instanceof DaroogheError && !error.retriable) throw error
      this.#log.warn(
        { error: redactSecrets(describeError(error)) },
        'transaction aborted: the batch is read again from the committed offsets'
      )
      this.#assignmentChanged = true
    }
  }

  /**
   * Runs a call against Kafka, retrying with backoff through an outage (see the class
   * comment) until it succeeds, the retry limit passes, or the consumer closes. Errors no
   * retry can pass (authorization, configuration) surface at once. A `group` call (one that
   * goes to the group coordinator) returns REJOIN instead of retrying when the membership is
   * gone (the caller joins first), and replaces the client when the coordinator moved.
   */
  async #retrying<T>(what: string, call: () => Promise<T>, group = false): Promise<T | typeof REJOIN> {
    const outage = new Outage(`${what} (group '${this.#options.groupId}')`, this.#log, {
      ...retryOptions(this.#options.resilience),
      dependency: 'kafka'
    })
    try {
      for (;;) {
        const client = this.#clients
        try {
          const result = await call()
          outage.succeeded()
          return result
        } catch (cause) {
          if (this.#closing) throw cause
          if (group && isRebalanceError(cause)) {
            this.#memberLost = true
            return REJOIN
          }
          // The coordinator moved, or a request timed out (its connection may be half-open, and
          // the client keeps it): a new client looks up the coordinator and dials again.
          if ((hasCode(cause, COORDINATOR_MOVED) || timedOut(cause)) && client === this.#clients)
            this.#replaceClient()
          const error = await kafkaFailure(what, cause, this.#options)
          await outage.failed(error, error.retriable)
        }
      }
    } finally {
      outage.end()
    }
  }

  /** The last record of each owned partition in the batch, as the transaction commits it. */
  #transactionOffsets(batch: readonly LogRecord[]): TransactionOffset[] {
    const c = this.#client
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

  /**
   * Queues a completed batch's offsets for commit and returns at once: the next batch is never
   * held behind a commit's round trip (at light load that round trip was most of a record's
   * latency). Commits stay in order, one at a time, each carrying the latest offsets of every
   * partition completed since the last one (Kafka Streams commits on an interval for the same
   * reason). A batch is committed only after it completed, as before: what changes is only how
   * many batches one commit covers.
   */
  #commitLater(offsets: CommitOffset[]): void {
    if (offsets.length === 0) return
    for (const o of offsets) this.#toCommit.set(`${o.topic}:${o.partition}`, o)
    if (this.#commitRunning) return
    this.#commitRunning = true
    this.#committing = (async () => {
      try {
        while (this.#toCommit.size > 0) {
          const batch = [...this.#toCommit.values()]
          this.#toCommit.clear()
          await this.#commit(batch)
        }
      } finally {
        this.#commitRunning = false
      }
    })()
    this.#committing.catch(error => {
      this.#commitError ??= error
    })
  }

  /**
   * A pipelined batch: its offsets are queued for commit once it is durable, after every batch
   * before it (a failure stops the chain: nothing after a batch that failed is committed).
   */
  #commitWhenDurable(durable: Promise<void>, offsets: CommitOffset[]): void {
    const previous = this.#durable
    this.#durable = (async () => {
      if (!(await previous)) return false
      try {
        await durable
      } catch (error) {
        if (!this.#closing)
          this.#log.warn(
            { error: redactSecrets(describeError(error)) },
            'a batch could not be made durable: reading again from the committed offsets'
          )
        this.#rewind = true
        return false
      }
      this.#commitLater(offsets)
      return true
    })()
  }

  /**
   * Commits a processed batch's offsets, retrying through an outage until they land.
   *
   * Retrying rather than giving the batch up: the batch is complete (outputs acknowledged,
   * state written), so committing it later is as right as committing it now, and it keeps an
   * outage from costing a redelivery of everything since. A commit that cannot land because
   * the membership changed (a rebalance, the session expired while the broker was away, the
   * coordinator moved) is dropped instead: the partition's owner, this member after it joins
   * again, reads the batch again from the committed offset. That redelivery is harmless: the
   * detector re-emits byte-identical outputs (before its state write) or nothing (after it),
   * the dispatcher dedupes by alert id, the store upserts by id, the windows stage skips
   * offsets its state already holds.
   */
  async #commit(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const committed = await this.#retrying('commit offsets', () => this.#client.commit({ offsets }), true)
    if (committed === REJOIN) {
      this.#log.info(
        { group: this.#options.groupId },
        'the group changed before an offset commit: the batch is read again from the committed offsets'
      )
    }
  }

  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    // The last batch's commit may still be in flight: let it land before the client goes
    // (a commit that fails now is not retried: the batch is read again on restart).
    await this.#durable
    await this.#committing.catch(() => {})
    try {
      await this.#fetcher?.close()
    } finally {
      await this.#client.close(true)
    }
  }
}

interface CommitOffset {
  topic: string
  partition: number
  offset: bigint
  leaderEpoch: number
}

/** NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE: the group's coordinator is elsewhere now. */
const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE'].map(kafkaCode))
/** ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID. */
const MEMBERSHIP_CHANGED = new Set(
  ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID'].map(kafkaCode)
)

function isRebalanceError(error: unknown): boolean {
  return hasCode(error, MEMBERSHIP_CHANGED)
}

/** Whether a Kafka error code of `codes` is anywhere in the error's chain. */
function hasCode(error: unknown, codes: ReadonlySet<number>): boolean {
  const seen = new Set<unknown>()
  const visit = (e: unknown, depth: number): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 12) return false
    seen.add(e)
    const x = e as { apiCode?: unknown; errors?: unknown; cause?: unknown }
    if (typeof x.apiCode === 'number' && codes.has(x.apiCode)) return true
    if (Array.isArray(x.errors) && x.errors.some(inner => visit(inner, depth + 1))) return true
    return visit(x.cause, depth + 1)
  }
  return visit(error, 0)
}
