import { randomBytes } from 'node:crypto'
import { DaroogheError } from '../errors.ts'
import type { LogRecord, OutRecord, TopicPartition } from '../ports/log.ts'
import type { StateStore } from '../ports/state-store.ts'
import type { Clock } from './clock.ts'
import type { Entry, StoreSpec } from './keyed-state.ts'
import { expand, findOffset, newLog } from './replay-log.ts'
import { EmittedTimes } from './emitted-times.ts'
import { readFrames, writeFrame, type EntryWriter } from './journal.ts'
import { ByteSlab, ChunkPool } from '../bytes/index.ts'
import { StateCache, type PartitionState, type StateWrite } from './state-cache.ts'
import { journalKey } from './keyed-state.ts'

/** Lets the logic name the state a record needs before the batch's one `getMany`. */
export interface KeyRequests {
  need(store: StoreSpec<unknown>, key: string): void
}

/** State access while processing a record; partition-scoped stores resolve to the record's partition. */
export interface TaskContext {
  get<V>(store: StoreSpec<V>, key: string): Entry<V>
  markDirty(entry: Entry<unknown>): void
}

/**
 * The application part of a stream task (cf. Kafka Streams' Processor): pure per-record steps.
 * P is a decoded record, R the result of processing it, rendered to output records only once the
 * batch's processing time is known.
 */
export interface TaskLogic<P, R> {
  prepare(record: LogRecord): P
  /** Event time, or NaN for a record without one: it moves the partition's stream time. */
  eventTime(prepared: P): number
  requestKeys(prepared: P, keys: KeyRequests): void
  process(prepared: P, record: LogRecord, ctx: TaskContext): R
  render(result: R, record: LogRecord, processedAtMs: number, out: OutRecord[]): void
  /**
   * A record whose `prepare` or `requestKeys` threw, as a decoded record that processes into an
   * error (it needs no state). With `fail`, what keeps one record from stopping the stream: no
   * exception of a step on one record leaves the task, so a record cannot crash its reader on
   * every redelivery. Must not throw, and must give the same result for the same record.
   */
  reject(record: LogRecord, error: unknown): P
  /** A record whose `process` or `render` threw, as an error result (see `reject`). */
  fail(record: LogRecord, error: unknown): R
  /**
   * Optional: the logic's state changes as journal entries (journal.ts). With it, partition
   * state is written as a journal and snapshotted only now and then; without it, every value
   * a batch changed is written with the batch.
   */
  readonly journal?: TaskJournal<R>
}

/** How a logic records and replays its state changes (journal.ts). */
export interface TaskJournal<R> extends EntryWriter<R> {
  /** Restore: requests every key `apply` reads or changes. */
  keys(entry: Buffer, keys: KeyRequests): void
  /** Restore: changes the state exactly as processing the record did, marking what it changes. */
  apply(entry: Buffer, ctx: TaskContext): void
}

export interface StreamTaskOptions {
  readonly store: StateStore
  /** Stores in slot order: `stores[i].slot === i`. */
  readonly stores: readonly StoreSpec<unknown>[]
  readonly clock: Clock
  /** Cached values kept after a batch; least recently used clean ones are evicted beyond it. */
  readonly maxCachedEntries: number
  /** Prefix of every state key. */
  readonly keyPrefix: string
  /**
   * `state-first` (default): a batch's state, progress and replay log are written before its
   * outputs are handed out. `outputs-first`: only the batch's processing times are written
   * before; the caller produces the outputs, then calls `complete()` to write the state (see
   * README: Delivery). Exactly-once needs state-first: its offsets commit with the outputs.
   */
  readonly delivery?: 'state-first' | 'outputs-first'
  /**
   * With a journaling logic: a partition's journal is compacted once it would pass this many
   * bytes (0: every batch, i.e. every changed value is written with its batch). Default 16 MiB.
   */
  readonly journalMaxBytes?: number
}

export const DEFAULT_JOURNAL_MAX_BYTES = 16 << 20

/** A batch between its in-memory processing (`#begin`) and its load and write (`#finish`). */
interface BatchRun<P> {
  readonly records: readonly LogRecord[]
  readonly seq: number
  readonly stats: TaskStats
  readonly outputs: OutRecord[]
  /** Partitions of the batch, and those of them to load first. */
  readonly touched: PartitionState[]
  readonly toLoad: PartitionState[]
  /** Indexes of the records that wait (for the load, or for the awaited batch), and their decoded forms. */
  readonly deferredAt: number[]
  readonly deferred: P[]
  readonly journalSlab: ByteSlab | null
  /** Processing ahead: the awaited batch's partitions, whose records wait for it. */
  readonly blocked: ReadonlySet<PartitionState> | null
  /** Processing ahead: the load started at once, and the records it let run, or why it failed. */
  loading: Promise<void> | null
  loadError: unknown
  loaded: boolean
  /** Dropped (`#discard`): an ahead load that resolves later must not touch anything. */
  discarded: boolean
}

export interface TaskStats {
  records: number
  /** Records processed for the first time (state updated). */
  processed: number
  /** Redelivered records whose stored outputs were re-emitted. */
  replayed: number
  /** Redelivered records older than the replay log: nothing emitted. */
  duplicatesSkipped: number
  /** Records whose processing failed and whose error record could not be rendered either. */
  unreported: number
  keysLoaded: number
  keysWritten: number
  cachedEntries: number
  /** Clock reading once the batch was evaluated (each record's own processing time is read as it is rendered). */
  processedAtMs: number
}

/**
 * Runs a TaskLogic over batches: one `getMany` for the state a batch needs that is not hot,
 * evaluation in record order, one atomic `writeBatch` of the dirty state together with each
 * partition's processed offset and replay log. Records at or below a partition's processed
 * offset never touch state: they re-emit their stored outputs (see replay-log.ts).
 * `onAssignment` must be called between batches (as LogConsumer does).
 */
export class StreamTask<P, R> implements KeyRequests, TaskContext {
  readonly #o: StreamTaskOptions
  readonly #logic: TaskLogic<P, R>
  readonly #cache: StateCache
  #current: PartitionState | null = null
  #seq = 0
  /** Keys of the current batch that are not in memory. */
  #missing = 0
  readonly #outputsFirst: boolean
  /** Partitions of an outputs-first batch whose state is not written yet. */
  #awaiting: PartitionState[] | null = null
  /** A pipelined state write failed: nothing completes until the consumer rewinds (`onAssignment`). */
  #failure: unknown = null
  /** The awaited batch's state write, encoded ahead by `stage()`. */
  #staged: StateWrite | null = null
  readonly #journal: TaskJournal<R> | null
  /** Journal entries of the batch being processed (journal mode). */
  #journalSlab: ByteSlab | null = null
  /** Journal entries of the awaited batch: kept until its state write is encoded and done. */
  #awaitingJournal: ByteSlab | null = null
  /** The next batch, processed in memory while the awaited one's I/O ran (`processAhead`). */
  #ahead: BatchRun<P> | null = null
  /** Write ids of the emitted-times writes: this instance, then a counter. */
  readonly #instance = randomBytes(4).toString('hex')
  #writes = 0
  #lastBatchSize = 0
  /** Chunks of the state and journal slabs, reused batch after batch (see ChunkPool). */
  readonly #pool = new ChunkPool(8 << 20)

  constructor(logic: TaskLogic<P, R>, options: StreamTaskOptions) {
    this.#logic = logic
    this.#o = options
    this.#journal = logic.journal ?? null
    this.#cache = new StateCache(
      options.stores,
      options.keyPrefix,
      this.#journal === null ? null : (options.journalMaxBytes ?? DEFAULT_JOURNAL_MAX_BYTES)
    )
    this.#outputsFirst = options.delivery === 'outputs-first'
  }

  /** Decodes records ahead of their batch (pure: no state is read), for `run(records, prepared)`. */
  prepare(records: readonly LogRecord[]): P[] {
    const out: P[] = new Array(records.length)
    for (let i = 0; i < records.length; i++) out[i] = this.#prepare(records[i]!)
    return out
  }

  #prepare(rec: LogRecord): P {
    try {
      return this.#logic.prepare(rec)
    } catch (error) {
      return this.#logic.reject(rec, error)
    }
  }

  /**
   * Outputs-first, while the awaited batch's outputs and state write are in flight: processes
   * `records` (the next batch) in memory now, all but the records of the awaited batch's
   * partitions, which must see that batch's state durable first; `run` on the same array then
   * handles those and whatever needs a load, and writes. Returns null then, or, with no batch
   * awaited, only the decoded records for `run`. Whatever makes the awaited batch run again
   * discards this work: its partitions are dropped from memory and reloaded (nothing of it was
   * written).
   */
  processAhead(records: readonly LogRecord[]): P[] | null {
    if (this.#ahead !== null) this.#discard(this.#ahead)
    this.#ahead = null
    if (!this.#outputsFirst || this.#awaiting === null) return this.prepare(records)
    // The awaited batch's journal entries are copied into its state write before its journal
    // slab is left behind.
    this.stage()
    const b = (this.#ahead = this.#begin(records, undefined))
    // Its load runs now too, and once it is in, the records it held back run, but for those of
    // the awaited batch's partitions: all of this while the awaited batch's I/O is in flight.
    if (b.deferred.length > 0) b.loading = this.#loadAhead(b)
    return null
  }

  async #loadAhead(b: BatchRun<P>): Promise<void> {
    try {
      await this.#load(b)
    } catch (error) {
      b.loadError = error
      return
    }
    if (b.discarded) return
    this.#handleDeferred(b, b.blocked)
  }

  /** The batch's one state load (values not hot, new partitions' progress and journals). */
  async #load(b: BatchRun<P>): Promise<void> {
    b.stats.keysLoaded = await this.#cache.load(this.#o.store, b.toLoad, b.seq)
    if (this.#journal !== null && !b.discarded) b.stats.keysLoaded += await this.#restore(b.toLoad, b.seq)
    b.loaded = true
  }

  /** The deferred records not yet handled, in order, but those of `skip`'s partitions. */
  #handleDeferred(b: BatchRun<P>, skip: ReadonlySet<PartitionState> | null): void {
    const { records, deferred, deferredAt } = b
    this.#journalSlab = b.journalSlab
    try {
      for (let j = 0; j < deferred.length; j++) {
        const at = deferredAt[j]!
        if (at < 0) continue
        const rec = records[at]!
        const part = this.#cache.partition(rec.topic, rec.partition)
        if (skip !== null && skip.has(part)) continue
        this.#handle(rec, part, deferred[j]!, b.outputs, b.stats)
        deferredAt[j] = -1
      }
    } finally {
      this.#current = null
    }
  }

  /** `prepared`: the same records through `prepare`, done ahead (e.g. while the last batch's I/O was in flight). */
  async run(
    records: readonly LogRecord[],
    prepared?: readonly P[]
  ): Promise<{ outputs: OutRecord[]; stats: TaskStats }> {
    const cache = this.#cache
    if (this.#failure !== null) throw this.#failure
    if (this.#awaiting !== null) {
      // The last batch was never completed (its outputs failed): memory is ahead of the store.
      cache.abort(this.#awaiting)
      this.#awaiting = null
      this.#staged?.slab.recycle()
      this.#staged = null
      this.#awaitingJournal?.recycle()
      this.#awaitingJournal = null
    }
    const ahead = this.#ahead
    this.#ahead = null
    let b: BatchRun<P>
    if (ahead !== null && ahead.records === records) b = ahead
    else {
      if (ahead !== null) this.#discard(ahead)
      b = this.#begin(records, prepared)
    }
    return this.#finish(b)
  }

  /**
   * The in-memory part of a batch: records are handled in order. While every key a record needs
   * is hot, it is evaluated at once (and its decoded form becomes garbage right away); from the
   * first record that needs a load on, the rest wait for the batch's single getMany (`#finish`).
   */
  #begin(records: readonly LogRecord[], prepared: readonly P[] | undefined): BatchRun<P> {
    const seq = ++this.#seq
    const n = records.length
    this.#lastBatchSize = n
    const b: BatchRun<P> = {
      records,
      seq,
      stats: {
        records: n,
        processed: 0,
        replayed: 0,
        duplicatesSkipped: 0,
        unreported: 0,
        keysLoaded: 0,
        keysWritten: 0,
        cachedEntries: 0,
        processedAtMs: 0
      },
      outputs: [],
      touched: [],
      toLoad: [],
      deferredAt: [],
      deferred: [],
      journalSlab: this.#journal === null ? null : ByteSlab.forBatch(n, 100, this.#pool),
      blocked: this.#awaiting === null ? null : new Set(this.#awaiting),
      loading: null,
      loadError: null,
      loaded: false,
      discarded: false
    }
    const cache = this.#cache
    this.#journalSlab = b.journalSlab
    // A partition of the awaited batch waits for it (processing ahead): no record of it runs yet.
    if (this.#awaiting !== null) for (const p of this.#awaiting) p.waitingSeq = seq
    try {
      for (let i = 0; i < n; i++) {
        const rec = records[i]!
        const part = cache.partition(rec.topic, rec.partition)
        if (part.seq !== seq) {
          part.seq = seq
          b.touched.push(part)
        }
        if (!part.loaded && !part.requested) {
          part.requested = true
          b.toLoad.push(part)
        }
        this.#current = part
        let p = prepared !== undefined ? prepared[i]! : this.#prepare(rec)
        this.#missing = 0
        try {
          this.#logic.requestKeys(p, this)
        } catch (error) {
          p = this.#logic.reject(rec, error)
          this.#missing = 0
        }
        // A record runs at once while its partition is loaded and its keys are hot; from the first
        // one that cannot on, its partition's records wait (in order) for the batch's one load.
        if (part.loaded && this.#missing === 0 && part.waitingSeq !== seq) {
          this.#handle(rec, part, p, b.outputs, b.stats)
        } else {
          part.waitingSeq = seq
          b.deferredAt.push(i)
          b.deferred.push(p)
        }
      }
    } catch (error) {
      this.#discard(b)
      throw error
    } finally {
      this.#current = null
    }
    return b
  }

  /** The rest of a batch: its one state load, the records that waited for it, its state write. */
  async #finish(b: BatchRun<P>): Promise<{ outputs: OutRecord[]; stats: TaskStats }> {
    const { records, seq, stats, outputs, touched, deferred } = b
    const n = records.length
    const cache = this.#cache
    this.#journalSlab = b.journalSlab
    try {
      if (b.loading !== null) {
        await b.loading
        if (b.loadError !== null) throw b.loadError
      }
      if (deferred.length > 0) {
        if (!b.loaded) await this.#load(b)
        this.#handleDeferred(b, null)
      }
      stats.processedAtMs = this.#o.clock.now()
      // State bytes and replay logs of the batch, carved from one slab recycled after the write.
      const slab = ByteSlab.forBatch(n, 600, this.#pool)
      if (this.#outputsFirst) {
        const puts = cache.timesPuts(touched, slab, `${this.#instance}.${++this.#writes}`)
        try {
          if (puts.length > 0) await this.#o.store.writeBatch(puts, [], cache.guards(touched))
        } finally {
          slab.recycle()
        }
        cache.timesWritten(touched)
        this.#awaiting = touched
        this.#awaitingJournal = b.journalSlab
        stats.keysWritten = puts.length
      } else {
        const w = cache.puts(touched, slab, true, this.#o.maxCachedEntries)
        await this.#write(w, cache.guards(touched))
        cache.committed(touched, true)
        b.journalSlab?.recycle()
        stats.keysWritten = w.puts.length + w.appends.length
        cache.evict(seq, this.#o.maxCachedEntries)
      }
      stats.cachedEntries = cache.size
      return { outputs, stats }
    } catch (error) {
      cache.abort(touched)
      throw error
    } finally {
      this.#current = null
    }
  }

  /** Forgets a batch processed in memory but never written: its partitions are reloaded when next seen. */
  #discard(b: BatchRun<P>): void {
    b.discarded = true
    this.#cache.abort(b.touched)
    b.journalSlab?.recycle()
  }

  /**
   * Outputs-first: the batch's outputs are acknowledged; writes its state and progress (one
   * atomic, fenced write). Returns the keys written once the write is durable.
   *
   * The write is in flight when this returns: the caller may run the next batch at once
   * (pipelining), on the memory this write makes durable. Memory counts the write as done from
   * the moment it is issued, so the next batch's writes are fenced on it (its guards expect its
   * progress key) and carry its offsets; the store applies writes in order. If it rejects,
   * every partition is dropped from memory (later batches may have built on it), later
   * `complete()` calls refuse, and the caller must run every batch since the last completed one
   * again, from the committed offsets (`onAssignment` clears the failure); their outputs come
   * out identical. Nothing to do in state-first mode.
   */
  complete(): Promise<number> {
    const touched = this.#awaiting
    if (this.#failure !== null) {
      if (touched !== null) this.#cache.abort(touched)
      this.#awaiting = null
      return Promise.reject(this.#failure)
    }
    if (touched === null) return Promise.resolve(0)
    const w = this.#staged ?? this.#encodeState(touched)
    this.#awaiting = null
    this.#staged = null
    // Its entries are in `w` now.
    this.#awaitingJournal?.recycle()
    this.#awaitingJournal = null
    const cache = this.#cache
    // Guarded by what the store holds before it; memory moves on as if it were written.
    const guards = cache.guards(touched)
    cache.committed(touched, false)
    const seq = this.#seq
    return this.#write(w, guards).then(
      () => {
        // Values are evicted only once their write is done: a value read back from the store
        // (on another connection than the writes) must never be older than memory was.
        if (this.#failure === null) cache.evict(Math.max(seq, this.#seq), this.#o.maxCachedEntries)
        return w.puts.length + w.appends.length
      },
      (error: unknown) => {
        this.#fail(error)
        throw error
      }
    )
  }

  /** The error of a pipelined state write that failed, until the next `onAssignment`. */
  get failure(): unknown {
    return this.#failure
  }

  /** A state write failed: nothing in memory can be trusted beyond the store any more. */
  #fail(error: unknown): void {
    this.#failure ??= error
    for (const p of this.#cache.list()) this.#cache.drop(p)
    this.#cache.abort([])
    if (this.#ahead !== null) this.#discard(this.#ahead)
    this.#ahead = null
  }

  /**
   * Outputs-first, optional: encodes the awaited batch's state write now, so that `complete()`
   * only sends it. Memory does not change between `run` and `complete`, so the bytes are the
   * same whenever they are made; a caller encodes them while the outputs are in flight.
   */
  stage(): void {
    if (this.#awaiting !== null && this.#staged === null) this.#staged = this.#encodeState(this.#awaiting)
  }

  async #write(w: StateWrite, guards: [string, string | null][]): Promise<void> {
    try {
      if (w.puts.length + w.deletes.length + w.appends.length === 0) return
      await this.#o.store.writeBatch(w.puts, w.deletes, guards, w.appends)
    } finally {
      // The store keeps no reference to the bytes once the write is done (the port's contract).
      w.slab.recycle()
    }
  }

  /**
   * Journal mode: replays the journals of the partitions just loaded, after loading every value
   * their entries touch (one more `getMany`). Returns the keys read.
   */
  async #restore(loaded: readonly PartitionState[], seq: number): Promise<number> {
    const journal = this.#journal!
    const parts = loaded.filter(p => p.restoring !== null)
    if (parts.length === 0) return 0
    const entries = parts.map(p => {
      try {
        return readFrames(p.restoring!)
      } catch (cause) {
        throw this.#badJournal(p, cause)
      }
    })
    const replay = (each: (p: PartitionState, entry: Buffer) => void): void => {
      parts.forEach((p, i) => {
        this.#current = p
        for (const entry of entries[i]!) {
          try {
            each(p, entry)
          } catch (cause) {
            throw this.#badJournal(p, cause)
          }
        }
      })
    }
    replay((_, entry) => journal.keys(entry, this))
    const read = await this.#cache.load(this.#o.store, [], seq)
    replay((_, entry) => journal.apply(entry, this))
    for (const p of parts) p.restoring = null
    return read
  }

  #badJournal(p: PartitionState, cause: unknown): DaroogheError {
    if (cause instanceof DaroogheError) return cause
    return new DaroogheError(
      'CONFIG',
      `state key '${journalKey(this.#o.keyPrefix, p.topic, p.partition)}' is not in this version's format: clear the state store or use another key prefix`,
      { cause }
    )
  }

  #encodeState(touched: readonly PartitionState[]): StateWrite {
    try {
      return this.#cache.puts(
        touched,
        ByteSlab.forBatch(this.#lastBatchSize, 600, this.#pool),
        false,
        this.#o.maxCachedEntries
      )
    } catch (error) {
      this.#cache.abort(touched)
      this.#awaiting = null
      throw error
    }
  }

  /** One record: re-emit if already processed, else evaluation; then render. */
  #handle(rec: LogRecord, part: PartitionState, p: P, outputs: OutRecord[], stats: TaskStats): void {
    const start = outputs.length
    if (rec.offset <= part.processedOffset) {
      if (!this.#reemit(rec, part, outputs)) {
        stats.duplicatesSkipped++
        return
      }
      stats.replayed++
    } else {
      part.processedOffset = rec.offset
      part.dirty = true
      // Stream time only: lateness is the logic's to judge (the fraud logic: per customer).
      const t = this.#logic.eventTime(p)
      if (t > part.streamTimeMs) part.streamTimeMs = t
      let r: R
      try {
        this.#current = part
        r = this.#logic.process(p, rec, this)
        stats.processed++
        if (this.#journal !== null) this.#record(part, r)
      } catch (error) {
        // What the record changed in memory before it threw is not journaled: a bug's effects
        // stay out of the durable state.
        r = this.#logic.fail(rec, error)
      }
      // Processing time is read per record once it is evaluated: latency ends here. A record
      // whose outputs may have gone out before (emitted times) gets the same time again.
      let now = part.times.size > 0 ? part.times.timeOf(rec.offset) : Number.NaN
      if (Number.isNaN(now)) now = this.#o.clock.now()
      if (this.#outputsFirst) (part.nextTimes ??= new EmittedTimes()).push(rec.offset, now)
      try {
        this.#logic.render(r, rec, now, outputs)
      } catch (error) {
        outputs.length = start
        try {
          this.#logic.render(this.#logic.fail(rec, error), rec, now, outputs)
        } catch {
          // Not even its error record renders: nothing is emitted for it, and it is counted,
          // rather than failing the batch on every redelivery.
          outputs.length = start
          stats.unreported++
        }
      }
    }
    if (!this.#outputsFirst && outputs.length > start) {
      // Re-emitted outputs count too: the new replay log must cover every record of this batch.
      const next = (part.next ??= newLog())
      next.offsets.push(rec.offset)
      for (let j = start; j < outputs.length; j++) next.records.push(outputs[j]!)
      next.starts.push(next.records.length)
    }
  }

  /** Journal mode: the record's state change, to be appended to its partition's journal. */
  #record(part: PartitionState, r: R): void {
    const journal = this.#journal!
    const entry = writeFrame(this.#journalSlab!, journal, r)
    if (entry === null) return
    part.entries.push(entry)
    part.entryBytes += entry.length
  }

  /** Pushes the stored outputs of an already processed record; false if they are not stored. */
  #reemit(rec: LogRecord, part: PartitionState, outputs: OutRecord[]): boolean {
    const log = part.log
    const at = findOffset(log, rec.offset)
    if (at < 0) return false
    for (let j = log.starts[at]!; j < log.starts[at + 1]!; j++) {
      const out = expand(log.records[j]!, rec.value)
      if (out === null) {
        throw new DaroogheError(
          'CONFIG',
          `record ${rec.topic}:${rec.partition}@${rec.offset} is not the one whose outputs are stored (was the topic recreated?): clear the state store`
        )
      }
      outputs.push(out)
    }
    return true
  }

  /** Drops every partition of the task's topics that is not in `assigned` (it moved elsewhere). */
  onAssignment(assigned: readonly TopicPartition[]): void {
    // The consumer starts again from the committed offsets: a failed write is behind us.
    this.#failure = null
    if (this.#ahead !== null) this.#discard(this.#ahead)
    this.#ahead = null
    this.#cache.retain(assigned)
  }

  /** Stream time and processed offset of each partition in memory (for metrics). */
  partitions(): { topic: string; partition: number; streamTimeMs: number; processedOffset: number }[] {
    return this.#cache.list().map(p => ({
      topic: p.topic,
      partition: p.partition,
      streamTimeMs: p.streamTimeMs,
      processedOffset: p.processedOffset
    }))
  }

  cachedEntries(): number {
    return this.#cache.size
  }

  need(store: StoreSpec<unknown>, key: string): void {
    if (this.#cache.need(this.#current!, store, key, this.#seq)) this.#missing++
  }

  get<V>(store: StoreSpec<V>, key: string): Entry<V> {
    return this.#cache.get(this.#current!, store, key, this.#seq)
  }

  markDirty(entry: Entry<unknown>): void {
    this.#cache.markDirty(this.#current!, entry)
  }
}
