import { DaroogheError } from '../errors.ts'
import type { LogRecord, OutRecord, TopicPartition } from '../ports/log.ts'
import type { StateStore } from '../ports/state-store.ts'
import type { Clock } from './clock.ts'
import { decodeMeta, encodeMeta, Entry, globalKey, logKey, metaKey, partitionKey, type StoreSpec } from './keyed-state.ts'
import { decodeReplayLog, encodeReplayLog, EMPTY_LOG, findOffset, newLog, type ReplayLog } from './replay-log.ts'
import { NO_EVENT_TIME } from './watermark.ts'

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
  /** Event time, or NaN for a record without one (it skips the lateness check). */
  eventTime(prepared: P): number
  requestKeys(prepared: P, keys: KeyRequests): void
  process(prepared: P, record: LogRecord, ctx: TaskContext): R
  late(prepared: P, record: LogRecord, watermarkMs: number): R
  render(result: R, record: LogRecord, processedAtMs: number, out: OutRecord[]): void
}

export interface StreamTaskOptions {
  readonly store: StateStore
  /** Stores in slot order: `stores[i].slot === i`. */
  readonly stores: readonly StoreSpec<unknown>[]
  readonly clock: Clock
  readonly allowedLatenessMs: number
  /** Cached values kept after a batch; least recently used clean ones are evicted beyond it. */
  readonly maxCachedEntries: number
  /** Prefix of every state key. */
  readonly keyPrefix: string
}

export interface TaskStats {
  records: number
  /** Records processed for the first time (state updated). */
  processed: number
  /** Redelivered records whose stored outputs were re-emitted. */
  replayed: number
  /** Redelivered records older than the replay log: nothing emitted. */
  duplicatesSkipped: number
  late: number
  keysLoaded: number
  keysWritten: number
  cachedEntries: number
  /** The processing time of the batch (clock read once evaluation was done). */
  processedAtMs: number
}

class PartitionState {
  /** Last batch that saw the partition. */
  seq = 0
  requested = false
  loaded = false
  processedOffset = -1
  streamTimeMs = NO_EVENT_TIME
  dirty = false
  log: ReplayLog = EMPTY_LOG
  next: ReplayLog | null = null
  readonly slots: Map<string, Entry<unknown>>[]
  constructor(
    readonly topic: string,
    readonly partition: number,
    slotCount: number
  ) {
    this.slots = Array.from({ length: slotCount }, () => new Map())
  }
}

/**
 * Runs a TaskLogic over batches: one `getMany` for the state a batch needs that is not hot,
 * evaluation in record order, one atomic `writeBatch` of the dirty state together with each
 * partition's processed offset and replay log. Records at or below a partition's processed
 * offset never touch state: they re-emit their stored outputs (see replay-log.ts).
 */
export class StreamTask<P, R> implements KeyRequests, TaskContext {
  readonly #o: StreamTaskOptions
  readonly #logic: TaskLogic<P, R>
  readonly #parts = new Map<string, Map<number, PartitionState>>()
  readonly #global: Map<string, Entry<unknown>>[]
  #requested = new Map<string, { map: Map<string, Entry<unknown>>; key: string; spec: StoreSpec<unknown> }>()
  #dirty: Entry<unknown>[] = []
  #current: PartitionState | null = null
  #seq = 0
  #cached = 0
  /** Keys the current record needs that are not in memory. */
  #missing = 0

  constructor(logic: TaskLogic<P, R>, options: StreamTaskOptions) {
    options.stores.forEach((s, i) => {
      if (s.slot !== i) throw new DaroogheError('INTERNAL', `store '${s.name}' has slot ${s.slot}, expected ${i}`)
    })
    this.#logic = logic
    this.#o = options
    this.#global = options.stores.map(() => new Map())
  }

  async run(records: readonly LogRecord[]): Promise<{ outputs: OutRecord[]; stats: TaskStats }> {
    const seq = ++this.#seq
    const n = records.length
    const stats: TaskStats = {
      records: n,
      processed: 0,
      replayed: 0,
      duplicatesSkipped: 0,
      late: 0,
      keysLoaded: 0,
      keysWritten: 0,
      cachedEntries: 0,
      processedAtMs: 0
    }
    const outputs: OutRecord[] = []
    const touched: PartitionState[] = []
    this.#requested.clear()
    this.#missing = 0
    const toLoad: PartitionState[] = []
    // Records are handled in order. While every key a record needs is hot, it is evaluated at
    // once (and its decoded form becomes garbage right away); from the first record that needs
    // a load on, the rest wait for the batch's single getMany.
    let deferredFrom = n
    let deferred: P[] | null = null
    try {
      for (let i = 0; i < n; i++) {
        const rec = records[i]!
        const part = this.#partition(rec.topic, rec.partition)
        if (part.seq !== seq) {
          part.seq = seq
          touched.push(part)
        }
        if (!part.loaded && !part.requested) {
          part.requested = true
          toLoad.push(part)
        }
        this.#current = part
        const p = this.#logic.prepare(rec)
        this.#logic.requestKeys(p, this)
        if (deferred === null && part.loaded && this.#missing === 0) {
          this.#handle(rec, part, p, outputs, stats)
        } else {
          if (deferred === null) {
            deferred = []
            deferredFrom = i
          }
          deferred.push(p)
        }
      }
      if (deferred !== null) {
        stats.keysLoaded = await this.#load(toLoad)
        for (let i = deferredFrom; i < n; i++) {
          const rec = records[i]!
          this.#handle(rec, this.#partition(rec.topic, rec.partition), deferred[i - deferredFrom]!, outputs, stats)
        }
      }
      stats.processedAtMs = this.#o.clock.now()
      stats.keysWritten = await this.#write(touched)
      this.#evict(seq)
      stats.cachedEntries = this.#cached
      return { outputs, stats }
    } catch (error) {
      // Memory may now be ahead of the store: forget these partitions so a retry reloads them.
      for (const part of touched) this.#drop(part)
      this.#dirty = []
      throw error
    } finally {
      this.#current = null
    }
  }

  /** One record: re-emit if already processed, else late side output or evaluation; then render. */
  #handle(rec: LogRecord, part: PartitionState, p: P, outputs: OutRecord[], stats: TaskStats): void {
    const start = outputs.length
    if (rec.offset <= part.processedOffset) {
      const log = part.log
      const at = findOffset(log, rec.offset)
      if (at < 0) {
        stats.duplicatesSkipped++
        return
      }
      for (let j = log.starts[at]!; j < log.starts[at + 1]!; j++) outputs.push(log.records[j]!)
      stats.replayed++
    } else {
      part.processedOffset = rec.offset
      part.dirty = true
      const lateness = this.#o.allowedLatenessMs
      const t = this.#logic.eventTime(p)
      let r: R
      if (t < part.streamTimeMs - lateness) {
        r = this.#logic.late(p, rec, part.streamTimeMs - lateness)
        stats.late++
      } else {
        if (t > part.streamTimeMs) part.streamTimeMs = t
        this.#current = part
        r = this.#logic.process(p, rec, this)
        stats.processed++
      }
      // Processing time is read per record once it is evaluated: latency ends here.
      this.#logic.render(r, rec, this.#o.clock.now(), outputs)
    }
    if (outputs.length > start) {
      // Replayed outputs count too: the new replay log must cover every record of this batch.
      const next = (part.next ??= newLog())
      next.offsets.push(rec.offset)
      for (let j = start; j < outputs.length; j++) next.records.push(outputs[j]!)
      next.starts.push(next.records.length)
    }
  }

  async #load(toLoad: PartitionState[]): Promise<number> {
    const requests = [...this.#requested.values()]
    if (requests.length === 0 && toLoad.length === 0) return 0
    const prefix = this.#o.keyPrefix
    const keys: string[] = []
    for (const part of toLoad) keys.push(metaKey(prefix, part.topic, part.partition), logKey(prefix, part.topic, part.partition))
    for (const k of this.#requested.keys()) keys.push(k)
    const values = await this.#o.store.getMany(keys)
    let i = 0
    for (const part of toLoad) {
      const meta = decodeWith(keys[i]!, values[i] ?? null, decodeMeta)
      part.processedOffset = meta.processedOffset
      part.streamTimeMs = meta.streamTimeMs
      part.log = decodeWith(keys[i + 1]!, values[i + 1] ?? null, decodeReplayLog)
      part.loaded = true
      part.requested = false
      i += 2
    }
    const seq = this.#seq
    for (const r of requests) {
      const storeKey = keys[i]!
      const entry = new Entry<unknown>(storeKey, r.spec.slot, decodeWith(storeKey, values[i++] ?? null, raw => r.spec.codec.decode(raw)))
      entry.seq = seq
      r.map.set(r.key, entry)
      this.#cached++
    }
    return keys.length
  }

  async #write(touched: PartitionState[]): Promise<number> {
    const puts: [string, string][] = []
    const prefix = this.#o.keyPrefix
    const stores = this.#o.stores
    for (const part of touched) {
      if (!part.dirty) {
        // Only re-emits: the stored log still covers them; nothing to write.
        part.next = null
        continue
      }
      puts.push([metaKey(prefix, part.topic, part.partition), encodeMeta(part.processedOffset, part.streamTimeMs)])
      puts.push([logKey(prefix, part.topic, part.partition), encodeReplayLog(part.next ?? EMPTY_LOG)])
    }
    for (const e of this.#dirty) puts.push([e.storeKey, stores[e.slot]!.codec.encode(e.value)])
    if (puts.length > 0) await this.#o.store.writeBatch(puts)
    for (const part of touched) {
      if (!part.dirty) continue
      part.log = part.next ?? EMPTY_LOG
      part.next = null
      part.dirty = false
    }
    for (const e of this.#dirty) e.dirty = false
    this.#dirty = []
    return puts.length
  }

  #evict(seq: number): void {
    let excess = this.#cached - this.#o.maxCachedEntries
    if (excess <= 0) return
    const maps: Map<string, Entry<unknown>>[] = [...this.#global]
    for (const byPartition of this.#parts.values()) for (const part of byPartition.values()) maps.push(...part.slots)
    // Entries are moved to the end of their map when touched, so each map's head is its LRU.
    for (const map of maps) {
      for (const [key, e] of map) {
        if (excess <= 0) return
        if (e.seq === seq) break
        map.delete(key)
        this.#cached--
        excess--
      }
    }
  }

  /** Drops every partition of the task's topics that is not in `assigned` (it moved elsewhere). */
  onAssignment(assigned: readonly TopicPartition[]): void {
    const keep = new Set(assigned.map(tp => `${tp.topic}\u0000${tp.partition}`))
    for (const byPartition of this.#parts.values()) {
      for (const part of byPartition.values()) if (!keep.has(`${part.topic}\u0000${part.partition}`)) this.#drop(part)
    }
  }

  /** Stream time and processed offset of each partition in memory (for metrics). */
  partitions(): { topic: string; partition: number; streamTimeMs: number; processedOffset: number }[] {
    const out = []
    for (const byPartition of this.#parts.values()) {
      for (const p of byPartition.values()) {
        out.push({ topic: p.topic, partition: p.partition, streamTimeMs: p.streamTimeMs, processedOffset: p.processedOffset })
      }
    }
    return out
  }

  cachedEntries(): number {
    return this.#cached
  }

  #drop(part: PartitionState): void {
    for (const map of part.slots) this.#cached -= map.size
    this.#parts.get(part.topic)?.delete(part.partition)
  }

  #partition(topic: string, partition: number): PartitionState {
    let byPartition = this.#parts.get(topic)
    if (byPartition === undefined) this.#parts.set(topic, (byPartition = new Map()))
    let part = byPartition.get(partition)
    if (part === undefined) byPartition.set(partition, (part = new PartitionState(topic, partition, this.#o.stores.length)))
    return part
  }

  need(store: StoreSpec<unknown>, key: string): void {
    const map = store.scope === 'partition' ? this.#current!.slots[store.slot]! : this.#global[store.slot]!
    if (map.has(key)) return
    this.#missing++
    const p = this.#current!
    const storeKey =
      store.scope === 'partition'
        ? partitionKey(this.#o.keyPrefix, store.name, p.topic, p.partition, key)
        : globalKey(this.#o.keyPrefix, store.name, key)
    if (!this.#requested.has(storeKey)) this.#requested.set(storeKey, { map, key, spec: store })
  }

  get<V>(store: StoreSpec<V>, key: string): Entry<V> {
    const map = store.scope === 'partition' ? this.#current!.slots[store.slot]! : this.#global[store.slot]!
    const e = map.get(key)
    if (e === undefined) throw new DaroogheError('INTERNAL', `state '${store.name}:${key}' was read without being requested`)
    if (e.seq !== this.#seq) {
      e.seq = this.#seq
      map.delete(key)
      map.set(key, e)
    }
    return e as Entry<V>
  }

  markDirty(entry: Entry<unknown>): void {
    if (entry.dirty) return
    entry.dirty = true
    this.#dirty.push(entry)
  }
}

function decodeWith<T>(key: string, raw: string | null, decode: (raw: string | null) => T): T {
  try {
    return decode(raw)
  } catch (cause) {
    throw new DaroogheError(
      'CONFIG',
      `state key '${key}' is not in this version's format: clear the state store or use another key prefix`,
      { cause }
    )
  }
}
