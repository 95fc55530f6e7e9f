import { randomUUID } from 'node:crypto'
import { CORRELATION_ID_HEADER, REPLY_TO_HEADER } from '../../domain/reply.ts'
import { describeError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import type { DecisionBus } from '../../ports/decision-bus.ts'
import type { DecisionEntry, DecisionStore } from '../../ports/decision-store.ts'
import type { LogRecord } from '../../ports/log.ts'
import {
  alreadyDecided,
  answerOfReply,
  conflict,
  isDuplicateReply,
  notFound,
  pending,
  timedOut,
  unavailable,
  type DecisionAnswer
} from './decision-answers.ts'
import { before, digest, LATE, replyOf, transactionIdOf, Waiter, type Reply } from './decision-waiter.ts'

export interface DecisionServiceOptions {
  readonly bus: DecisionBus
  readonly store: DecisionStore
  /** The input topic events are sent to. */
  readonly topic: string
  /** The topic the detector replies on (it must be among the detector's reply topics). */
  readonly replyTopic: string
  /** How long a request waits for its decision before a 504, ms (--decision-timeout). */
  readonly timeoutMs: number
  /** How long a transaction id's pending marker and decision are kept, ms (--decision-ttl). */
  readonly ttlMs: number
  /** Most events waiting for a reply at once; beyond it a request is answered 503. Default 100 000. */
  readonly maxWaiting?: number
  readonly log: Logger
  /** Default Date.now. */
  readonly now?: () => number
}

/**
 * The decision API's core: sends an event through the stream (the same input topic and
 * detector as every event) with reply headers, and answers with the detector's reply.
 * Idempotent by transaction id: the first request claims the id in the store (SET NX); a
 * request for an id in flight joins its wait (in this instance, or by the correlation id the
 * store names, since every instance reads every reply); once decided, the stored reply is the
 * answer. A request still waiting after `timeoutMs` gets a 504; the reply is stored whenever
 * it comes, for `GET /v1/decisions/:id`.
 */
export class DecisionService {
  readonly #o: DecisionServiceOptions
  readonly #now: () => number
  readonly #byCorrelation = new Map<string, Waiter>()
  /** This instance's waiters by transaction id, until their reply is stored. */
  readonly #byTransaction = new Map<string, Waiter>()
  readonly #writes = new Set<Promise<void>>()
  #started = false
  #sweeper: ReturnType<typeof setInterval> | null = null

  constructor(options: DecisionServiceOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /** Starts reading replies; requests are answered 503 until this resolved. */
  async start(): Promise<void> {
    await this.#o.bus.start(replies => this.#onReplies(replies))
    this.#sweeper = setInterval(() => this.#sweep(), 10_000)
    this.#sweeper.unref()
    this.#started = true
  }

  /**
   * Decides one event: `raw` is the request body as received (sent as it is), `event` its
   * parsed object. `receivedAtMs` is the record's timestamp (its ingestion time).
   */
  async decide(raw: Buffer, event: Record<string, unknown>, receivedAtMs: number): Promise<DecisionAnswer> {
    const id = transactionIdOf(event)
    if (!this.#started) return unavailable(id, 'the decision API is starting: try again')
    const fingerprint = digest(event)
    const deadline = receivedAtMs + this.#o.timeoutMs
    if (id !== null) {
      const local = this.#byTransaction.get(id)
      if (local !== undefined) return this.#join(local, id, fingerprint, deadline)
    }
    if (this.#byCorrelation.size >= (this.#o.maxWaiting ?? 100_000))
      return unavailable(id, 'too many decisions in flight: try again shortly')
    const correlationId = randomUUID()
    const entry: DecisionEntry = { state: 'pending', fingerprint, correlationId, receivedAtMs }
    if (id !== null) {
      const claiming = this.#o.store.claim(id, entry, this.#o.ttlMs)
      let existing: DecisionEntry | null | typeof LATE
      try {
        existing = await before(claiming, deadline, this.#now)
      } catch (error) {
        return this.#storeDown(id, error)
      }
      if (existing === LATE) {
        // Nothing was sent: a claim that lands after all is taken back.
        claiming.then(e => (e === null ? this.#o.store.release(id, entry) : undefined)).catch(() => {})
        return this.#storeDown(id, 'no answer in time')
      }
      if (existing !== null) return this.#existing(existing, id, fingerprint, deadline)
    }
    const w = this.#waiter(correlationId, id, fingerprint, receivedAtMs)
    if (id !== null) this.#byTransaction.set(id, w)
    this.#o.bus
      .send({
        topic: this.#o.topic,
        key: typeof event.customer_id === 'string' ? event.customer_id : null,
        value: raw,
        headers: { [REPLY_TO_HEADER]: this.#o.replyTopic, [CORRELATION_ID_HEADER]: correlationId },
        timestamp: receivedAtMs
      })
      .catch((error: unknown) => this.#sendFailed(w, entry, error))
    return this.#join(w, id, fingerprint, deadline)
  }

  /** The answer for a transaction id sent before: decided, pending (202) or unknown (404). */
  async lookup(id: string): Promise<DecisionAnswer> {
    if (!this.#started) return unavailable(id, 'the decision API is starting: try again')
    const local = this.#byTransaction.get(id)
    if (local !== undefined && !local.failed)
      return local.got === null ? pending(id) : this.#answer(local.got, id)
    let entry: DecisionEntry | null | typeof LATE
    try {
      entry = await before(this.#o.store.get(id), this.#now() + this.#o.timeoutMs, this.#now)
    } catch (error) {
      return this.#storeDown(id, error)
    }
    if (entry === LATE) return this.#storeDown(id, 'no answer in time')
    if (entry === null) return notFound(id)
    if (entry.state === 'done') return this.#answer(replyOf(entry.reply!, id), id)
    // Sent by another instance (or before a restart): if its reply is still to come, this one stores it too.
    this.#adopt(entry, id)
    return pending(id)
  }

  /** Stops reading replies, lets the stores of replies already read finish, closes the bus and the store. */
  async close(): Promise<void> {
    this.#started = false
    if (this.#sweeper) clearInterval(this.#sweeper)
    await this.#o.bus.close()
    await Promise.allSettled([...this.#writes])
    await this.#o.store.close()
  }

  /** In flight elsewhere, or decided: the same event joins or gets the stored answer. */
  #existing(e: DecisionEntry, id: string, fingerprint: string, deadline: number): Promise<DecisionAnswer> {
    // A request of this instance may have claimed it while this one asked the store.
    const local = this.#byTransaction.get(id)
    if (local !== undefined) return this.#join(local, id, fingerprint, deadline)
    if (e.fingerprint !== fingerprint) return Promise.resolve(conflict(id))
    if (e.state === 'done') return this.#answer(replyOf(e.reply!, id), id)
    return this.#join(this.#adopt(e, id), id, fingerprint, deadline)
  }

  #adopt(e: DecisionEntry, id: string): Waiter {
    const known = this.#byCorrelation.get(e.correlationId)
    if (known !== undefined) return known
    const w = this.#waiter(e.correlationId, id, e.fingerprint, e.receivedAtMs)
    this.#byTransaction.set(id, w)
    return w
  }

  /** Waits for `w`'s reply until the deadline. */
  async #join(w: Waiter, id: string | null, fingerprint: string, deadline: number): Promise<DecisionAnswer> {
    if (id !== null && w.fingerprint !== fingerprint) return conflict(id)
    let reply: Reply | typeof LATE
    try {
      reply = await before(w.reply, deadline, this.#now)
    } catch {
      return unavailable(id, 'the event could not be sent to the stream: try again')
    }
    return reply === LATE ? timedOut(id, this.#o.timeoutMs) : this.#answer(reply, id)
  }

  /** A reply's answer; a duplicate's is the decision stored for the id, when there is one. */
  async #answer(reply: Reply, id: string | null): Promise<DecisionAnswer> {
    if (id === null || !reply.duplicate) return reply.answer
    const stored = await this.#o.store.get(id).catch(() => null)
    if (stored?.state === 'done' && !isDuplicateReply(stored.reply!)) return answerOfReply(stored.reply!, id)
    return alreadyDecided(id)
  }

  #storeDown(id: string, why: unknown): DecisionAnswer {
    this.#o.log.warn({ error: describeError(why) }, 'decision store unavailable')
    return unavailable(id, 'the decision store is unavailable: try again')
  }

  #onReplies(replies: readonly LogRecord[]): void {
    for (const r of replies) {
      const c = r.headers[CORRELATION_ID_HEADER]
      const w = c === undefined ? undefined : this.#byCorrelation.get(c)
      if (w === undefined) continue
      this.#byCorrelation.delete(w.correlationId)
      const reply = replyOf(r.value === null ? '' : r.value.toString('utf8'), w.transactionId)
      w.settle(reply)
      // Stored by every instance waiting for it: the one that sent it, and any that joined it.
      if (w.transactionId !== null) this.#store(w, w.transactionId, reply)
    }
  }

  /** Stores a reply; the local waiter answers retries until the store has it. */
  #store(w: Waiter, id: string, reply: Reply): void {
    const store = this.#o.store
    const write = (async () => {
      if (reply.duplicate) {
        // A decision stored by an earlier send of the same id (see #sendFailed) stays.
        const stored = await store.get(id)
        if (stored?.state === 'done' && !isDuplicateReply(stored.reply!)) return
      }
      const entry: DecisionEntry = {
        state: 'done',
        fingerprint: w.fingerprint,
        correlationId: w.correlationId,
        receivedAtMs: w.receivedAtMs,
        reply: reply.text
      }
      await store.put(id, entry, this.#o.ttlMs)
    })().then(
      () => {
        if (this.#byTransaction.get(id) === w) this.#byTransaction.delete(id)
      },
      (error: unknown) =>
        this.#o.log.warn(
          { error: describeError(error) },
          'a decision could not be stored: this instance answers it until it expires'
        )
    )
    this.#writes.add(write)
    void write.finally(() => this.#writes.delete(write))
  }

  /**
   * The event may or may not have been written. Requests waiting get a 503 and the pending
   * marker is released, so a retry sends it again; the waiter keeps listening, and a reply that
   * comes after all is stored (a retry's duplicate then answers with it).
   */
  #sendFailed(w: Waiter, entry: DecisionEntry, error: unknown): void {
    this.#o.log.warn({ error: describeError(error) }, 'an event could not be sent to the stream')
    w.fail(error)
    const id = w.transactionId
    if (id === null) return
    if (this.#byTransaction.get(id) === w) this.#byTransaction.delete(id)
    this.#o.store.release(id, entry).catch(() => {})
  }

  #waiter(correlationId: string, id: string | null, fingerprint: string, receivedAtMs: number): Waiter {
    const w = new Waiter(correlationId, id, fingerprint, receivedAtMs, this.#now() + this.#o.ttlMs)
    this.#byCorrelation.set(correlationId, w)
    return w
  }

  /** Waiters whose reply never came within the TTL (their marker expired too) are forgotten. */
  #sweep(): void {
    const now = this.#now()
    for (const w of this.#byCorrelation.values()) {
      if (w.expiresAt > now) continue
      this.#byCorrelation.delete(w.correlationId)
      if (w.transactionId !== null && this.#byTransaction.get(w.transactionId) === w)
        this.#byTransaction.delete(w.transactionId)
    }
    for (const [id, w] of this.#byTransaction) if (w.expiresAt <= now) this.#byTransaction.delete(id)
  }
}
