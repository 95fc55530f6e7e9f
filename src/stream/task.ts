import { ByteSlab, ChunkPool } from '../bytes/index.ts'
import type { LogRecord, OutRecord, TopicPartition } from '../ports/log.ts'
import { newBatchRun, type BatchRun } from './batch-run.ts'
import { deliveryFor, type Delivery } from './delivery.ts'
import { guards } from './fence.ts'
import { JournalLayer } from './journal.ts'
import type { TaskLogic } from './logic.ts'
import { DEFAULT_JOURNAL_MAX_BYTES, type StreamTaskOptions, type TaskStats } from './options.ts'
import type { PartitionState } from './partition-state.ts'
import { RecordHandler } from './record-handler.ts'
import { StateCache } from './state-cache.ts'
import { TaskContextImpl } from './task-context.ts'
import { StateWriter, type StateWrite } from './state-write.ts'

export type { TaskJournal } from './journal.ts'
export type { TaskLogic } from './logic.ts'
export { DEFAULT_JOURNAL_MAX_BYTES, type StreamTaskOptions, type TaskStats } from './options.ts'
export type { KeyRequests, TaskContext } from './task-context.ts'

/**
 * Runs a TaskLogic over batches (the driver): one `getMany` for the state a batch needs that is
 * not hot, evaluation in record order (record-handler.ts), one atomic `writeBatch` of the dirty
 * state together with each partition's processed offset (state-write.ts), before or after the
 * outputs as the delivery order says (delivery.ts). Records at or below a partition's processed
 * offset never touch state: they re-emit their stored outputs (see replay-log.ts).
 * `onAssignment` must be called between batches (as LogConsumer does).
 */
export class StreamTask<P, R> {
  readonly #o: StreamTaskOptions
  readonly #logic: TaskLogic<P, R>
  readonly #cache: StateCache
  /** What the logic sees: the current partition, the latest batch (`seq`), the keys it missed. */
  readonly #ctx: TaskContextImpl
  readonly #delivery: Delivery
  /** The state write of a batch, layer by layer. */
  readonly #writer: StateWriter
  /** What one record does: processed, re-emitted or skipped. */
  readonly #records: RecordHandler<P, R>
  /** Partitions of an outputs-first batch whose state is not written yet. */
  #awaiting: PartitionState[] | null = null
  /** A pipelined state write failed: nothing completes until the consumer rewinds (`onAssignment`). */
  #failure: unknown = null
  /** The awaited batch's state write, encoded ahead by `stage()`. */
  #staged: StateWrite | null = null
  readonly #journal: JournalLayer<R> | null
  /** Journal entries of the awaited batch: kept until its state write is encoded and done. */
  #awaitingJournal: ByteSlab | null = null
  /** The next batch, processed in memory while the awaited one's I/O ran (`processAhead`). */
  #ahead: BatchRun<P> | null = null
  #lastBatchSize = 0
  /** Chunks of the state and journal slabs, reused batch after batch (see ChunkPool). */
  readonly #pool = new ChunkPool(8 << 20)

  constructor(logic: TaskLogic<P, R>, options: StreamTaskOptions) {
    this.#logic = logic
    this.#o = options
    const journal = logic.journal ?? null
    const maxBytes = options.journalMaxBytes ?? DEFAULT_JOURNAL_MAX_BYTES
    this.#journal = journal === null ? null : new JournalLayer(journal, options.keyPrefix, maxBytes)
    this.#cache = new StateCache(options.stores, options.keyPrefix, this.#journal)
    this.#ctx = new TaskContextImpl(this.#cache)
    this.#delivery = deliveryFor(options.delivery ?? 'state-first', options.keyPrefix)
    this.#writer = new StateWriter(
      this.#cache,
      this.#delivery,
      this.#journal,
      options.store,
      options.maxCachedEntries
    )
    this.#records = new RecordHandler(logic, this.#ctx, this.#journal, this.#delivery, options.clock)
  }

  /** Decodes records ahead of their batch (pure: no state is read), for `run(records, prepared)`. */
  prepare(records: readonly LogRecord[]): P[] {
    const out: P[] = new Array(records.length)
    for (let i = 0; i < records.length; i++) out[i] = this.#records.prepare(records[i]!)
    return out
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
    // Only a delivery that writes its state after the outputs leaves a batch awaited.
    if (this.#awaiting === null) return this.prepare(records)
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
    if (this.#journal !== null && !b.discarded) {
      b.stats.keysLoaded += await this.#journal.restore(b.toLoad, this.#ctx, () =>
        this.#cache.load(this.#o.store, [], b.seq)
      )
    }
    b.loaded = true
  }

  /** The deferred records not yet handled, in order, but those of `skip`'s partitions. */
  #handleDeferred(b: BatchRun<P>, skip: ReadonlySet<PartitionState> | null): void {
    const { records, deferred, deferredAt } = b
    this.#records.journalSlab = b.journalSlab
    try {
      for (let j = 0; j < deferred.length; j++) {
        const at = deferredAt[j]!
        if (at < 0) continue
        const rec = records[at]!
        const part = this.#cache.partition(rec.topic, rec.partition)
        if (skip !== null && skip.has(part)) continue
        this.#records.handle(rec, part, deferred[j]!, b.outputs, b.stats)
        deferredAt[j] = -1
      }
    } finally {
      this.#ctx.part = null
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
    const ctx = this.#ctx
    const seq = ++ctx.seq
    const n = records.length
    this.#lastBatchSize = n
    const b = newBatchRun<P>(
      records,
      seq,
      this.#journal === null ? null : ByteSlab.forBatch(n, 100, this.#pool),
      this.#awaiting === null ? null : new Set(this.#awaiting)
    )
    const cache = this.#cache
    this.#records.journalSlab = b.journalSlab
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
        ctx.part = part
        let p = prepared !== undefined ? prepared[i]! : this.#records.prepare(rec)
        ctx.missing = 0
        try {
          this.#logic.requestKeys(p, ctx)
        } catch (error) {
          p = this.#logic.reject(rec, error)
          ctx.missing = 0
        }
        // A record runs at once while its partition is loaded and its keys are hot; from the first
        // one that cannot on, its partition's records wait (in order) for the batch's one load.
        if (part.loaded && ctx.missing === 0 && part.waitingSeq !== seq) {
          this.#records.handle(rec, part, p, b.outputs, b.stats)
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
      this.#ctx.part = null
    }
    return b
  }

  /** The rest of a batch: its one state load, the records that waited for it, its state write. */
  async #finish(b: BatchRun<P>): Promise<{ outputs: OutRecord[]; stats: TaskStats }> {
    const { records, seq, stats, outputs, touched, deferred } = b
    const n = records.length
    const cache = this.#cache
    this.#records.journalSlab = b.journalSlab
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
      const delivery = this.#delivery
      if (delivery.stateAfterOutputs) {
        const puts = delivery.earlyPuts(touched, slab)
        try {
          if (puts.length > 0) await this.#o.store.writeBatch(puts, [], guards(cache.keyPrefix, touched))
        } finally {
          slab.recycle()
        }
        delivery.earlyWritten(touched)
        this.#awaiting = touched
        this.#awaitingJournal = b.journalSlab
        stats.keysWritten = puts.length
      } else {
        const w = this.#writer.encode(touched, slab)
        await this.#writer.write(w, guards(cache.keyPrefix, touched))
        this.#writer.written(touched)
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
      this.#ctx.part = null
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
    const fence = guards(cache.keyPrefix, touched)
    this.#writer.written(touched)
    const seq = this.#ctx.seq
    return this.#writer.write(w, fence).then(
      () => {
        // Values are evicted only once their write is done: a value read back from the store
        // (on another connection than the writes) must never be older than memory was.
        if (this.#failure === null) cache.evict(Math.max(seq, this.#ctx.seq), this.#o.maxCachedEntries)
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

  #encodeState(touched: readonly PartitionState[]): StateWrite {
    try {
      return this.#writer.encode(touched, ByteSlab.forBatch(this.#lastBatchSize, 600, this.#pool))
    } catch (error) {
      this.#cache.abort(touched)
      this.#awaiting = null
      throw error
    }
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
}
