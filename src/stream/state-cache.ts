import { DaroogheError } from '../errors.ts'
import type { TopicPartition } from '../ports/log.ts'
import type { StateStore, StateValue } from '../ports/state-store.ts'
import {
  decodeMeta,
  encodeMeta,
  Entry,
  globalKey,
  journalKey,
  logKey,
  metaKey,
  timesKey,
  partitionKey,
  type StoreSpec
} from './keyed-state.ts'
import { decodeReplayLog, encodeReplayLog, EMPTY_LOG, type ReplayLog } from './replay-log.ts'
import { decodeEmittedTimes, EmittedTimes, encodeEmittedTimes, NO_TIMES } from './emitted-times.ts'
import type { ByteSlab } from '../bytes/index.ts'
import { NO_EVENT_TIME } from './watermark.ts'

/** What the task knows of one input partition: progress, stream time, replay log and its state. */
export class PartitionState {
  /** Last batch that saw the partition. */
  seq = 0
  /** The batch whose records of this partition wait for its load (or for the batch before). */
  waitingSeq = 0
  /** Dropped from the cache: a load that resolves later leaves it alone. */
  dropped = false
  requested = false
  loaded = false
  /** Last offset whose effects are in the state (-1: none). */
  processedOffset = -1
  /** Largest event time seen (stream time; see watermark.ts). */
  streamTimeMs = NO_EVENT_TIME
  /** Processed a new record in the current batch: its state must be written. */
  dirty = false
  /**
   * The progress value as this instance last read or wrote it in the store: the guard of the
   * next write, which fails if anyone else (a successor after a rebalance) wrote it since.
   */
  stored: string | null = null
  /** Progress value of the batch being written, to become `stored` once it is durable. */
  pending: string | null = null
  /** Outputs of the last written batch, by offset. */
  log: ReplayLog = EMPTY_LOG
  /** Outputs of the current batch, to become `log` once written. */
  next: ReplayLog | null = null
  /** Processed offset and stream time as stored (memory runs ahead of them during a batch). */
  storedOffset = -1
  storedStreamTimeMs = NO_EVENT_TIME
  /** Processing times of emitted records after `storedOffset` (see emitted-times.ts). */
  times: EmittedTimes = NO_TIMES
  /** Processing times of the current batch's records (delivery mode outputs-first). */
  nextTimes: EmittedTimes | null = null
  /** `times` and `nextTimes` merged, as written before the outputs, to become `times`. */
  emitted: EmittedTimes | null = null
  /** Bytes of the partition's journal in the store (journal mode; see journal.ts). */
  journalBytes = 0
  /** The journal as loaded, until the task has replayed it. */
  restoring: Buffer | null = null
  /** Values changed since their last snapshot: the next compaction writes them. */
  journaled: Entry<unknown>[] = []
  /** The current batch's journal entries, and their bytes. */
  entries: Buffer[] = []
  entryBytes = 0
  /** The batch's write snapshots `journaled` and deletes the journal instead of appending. */
  compacting = false
  /** One map per partition-scoped store (indexed by slot). */
  readonly slots: Map<string, Entry<unknown>>[]
  constructor(
    readonly topic: string,
    readonly partition: number,
    slotCount: number
  ) {
    this.slots = Array.from({ length: slotCount }, () => new Map())
  }
}

interface Request {
  /** Null for a global store. */
  readonly part: PartitionState | null
  readonly map: Map<string, Entry<unknown>>
  readonly key: string
  readonly spec: StoreSpec<unknown>
}

/** What one batch writes, in one atomic `writeBatch`. */
export interface StateWrite {
  readonly puts: [string, StateValue][]
  readonly deletes: string[]
  readonly appends: [string, Uint8Array][]
  /** Where the bytes were written: recycled once the write is done. */
  readonly slab: ByteSlab
}

/**
 * The hot copy of the keyed state: per partition (dropped when the partition leaves) plus the
 * read-only global stores; knows what a batch must load and what it dirtied. Least recently
 * used clean values are evicted after each batch beyond `maxEntries`.
 *
 * Journal mode (`journalMaxBytes` not null): partition-scoped values are not written when they
 * change; the task appends the batch's journal entries instead, and a partition is compacted
 * (its changed values snapshotted, its journal deleted) once its journal would pass
 * `journalMaxBytes` or the cache is over its bound (journal.ts).
 */
export class StateCache {
  readonly #stores: readonly StoreSpec<unknown>[]
  readonly #prefix: string
  readonly #parts = new Map<string, Map<number, PartitionState>>()
  readonly #global: Map<string, Entry<unknown>>[]
  readonly #requested = new Map<string, Request>()
  #dirty: Entry<unknown>[] = []
  #size = 0
  readonly #journalMax: number | null
  /**
   * Per store slot, the hot entry `need` last found, its map and key: a record's `get` follows
   * its `need` and finds its entry here, without a second hash lookup (and string compare) in a
   * map of 100,000 keys. Cleared whenever entries leave a map or are replaced.
   */
  readonly #seenMap: (Map<string, Entry<unknown>> | null)[]
  readonly #seenKey: (string | null)[]
  readonly #seenEntry: (Entry<unknown> | null)[]

  constructor(
    stores: readonly StoreSpec<unknown>[],
    keyPrefix: string,
    journalMaxBytes: number | null = null
  ) {
    stores.forEach((s, i) => {
      if (s.slot !== i)
        throw new DaroogheError('INTERNAL', `store '${s.name}' has slot ${s.slot}, expected ${i}`)
    })
    this.#stores = stores
    this.#prefix = keyPrefix
    this.#global = stores.map(() => new Map())
    this.#journalMax = journalMaxBytes
    this.#seenMap = stores.map(() => null)
    this.#seenKey = stores.map(() => null)
    this.#seenEntry = stores.map(() => null)
  }

  #forgetSeen(): void {
    this.#seenMap.fill(null)
    this.#seenKey.fill(null)
    this.#seenEntry.fill(null)
  }

  get size(): number {
    return this.#size
  }

  partition(topic: string, partition: number): PartitionState {
    let byPartition = this.#parts.get(topic)
    if (byPartition === undefined) this.#parts.set(topic, (byPartition = new Map()))
    let part = byPartition.get(partition)
    if (part === undefined) {
      part = new PartitionState(topic, partition, this.#stores.length)
      byPartition.set(partition, part)
    }
    return part
  }

  #map(part: PartitionState, store: StoreSpec<unknown>): Map<string, Entry<unknown>> {
    return store.scope === 'partition' ? part.slots[store.slot]! : this.#global[store.slot]!
  }

  /**
   * Registers a key for the batch's load unless it is hot; returns whether it must be loaded. A
   * hot value is stamped with the batch `seq`, so that no eviction before its record is handled
   * (another batch's, while this one waits for its load) drops it.
   */
  need(part: PartitionState, store: StoreSpec<unknown>, key: string, seq: number): boolean {
    const map = this.#map(part, store)
    const hot = map.get(key)
    if (hot !== undefined) {
      hot.seq = seq
      const slot = store.slot
      this.#seenMap[slot] = map
      this.#seenKey[slot] = key
      this.#seenEntry[slot] = hot
      return false
    }
    const storeKey =
      store.scope === 'partition'
        ? partitionKey(this.#prefix, store.name, part.topic, part.partition, key)
        : globalKey(this.#prefix, store.name, key)
    if (!this.#requested.has(storeKey))
      this.#requested.set(storeKey, {
        part: store.scope === 'partition' ? part : null,
        map,
        key,
        spec: store
      })
    return true
  }

  /** A hot value; touching it stamps it with the batch (eviction drops the oldest stamps). */
  get<V>(part: PartitionState, store: StoreSpec<V>, key: string, seq: number): Entry<V> {
    const map = this.#map(part, store as StoreSpec<unknown>)
    const slot = store.slot
    const e =
      this.#seenMap[slot] === map && this.#seenKey[slot] === key ? this.#seenEntry[slot]! : map.get(key)
    if (e === undefined)
      throw new DaroogheError('INTERNAL', `state '${store.name}:${key}' was read without being requested`)
    e.seq = seq
    return e as Entry<V>
  }

  /** `entry` changed while processing a record of `part`. */
  markDirty(part: PartitionState, entry: Entry<unknown>): void {
    if (this.#journalMax !== null && this.#stores[entry.slot]!.scope === 'partition') {
      if (!entry.journaled) {
        entry.journaled = true
        part.journaled.push(entry)
      }
      return
    }
    if (entry.dirty) return
    entry.dirty = true
    this.#dirty.push(entry)
  }

  /** One getMany for the partitions seen for the first time and every requested key. Returns keys read. */
  async load(store: StateStore, toLoad: readonly PartitionState[], seq: number): Promise<number> {
    const requests = [...this.#requested.values()]
    const keys: string[] = []
    const journal = this.#journalMax !== null
    for (const p of toLoad) {
      keys.push(
        metaKey(this.#prefix, p.topic, p.partition),
        logKey(this.#prefix, p.topic, p.partition),
        timesKey(this.#prefix, p.topic, p.partition)
      )
      if (journal) keys.push(journalKey(this.#prefix, p.topic, p.partition))
    }
    for (const k of this.#requested.keys()) keys.push(k)
    this.#requested.clear()
    if (keys.length === 0) return 0
    const values = await store.getManyBytes(keys)
    this.#forgetSeen()
    let i = 0
    for (const part of toLoad) {
      if (part.dropped) {
        // Dropped while the load was in flight (a batch processed ahead, discarded).
        i += journal ? 4 : 3
        continue
      }
      part.stored = values[i]?.toString('utf8') ?? null
      const meta = decodeWith(keys[i]!, part.stored, decodeMeta)
      part.processedOffset = part.storedOffset = meta.processedOffset
      part.streamTimeMs = part.storedStreamTimeMs = meta.streamTimeMs
      part.log = decodeWith(keys[i + 1]!, values[i + 1] ?? null, decodeReplayLog)
      part.times = decodeWith(keys[i + 2]!, values[i + 2] ?? null, decodeEmittedTimes).after(
        meta.processedOffset
      )
      part.loaded = true
      part.requested = false
      i += 3
      if (journal) {
        const j = values[i++] ?? null
        part.restoring = j !== null && j.length > 0 ? j : null
        part.journalBytes = j?.length ?? 0
      }
    }
    for (const r of requests) {
      const storeKey = keys[i]!
      if (r.part?.dropped === true) {
        i++
        continue
      }
      const value = decodeWith(storeKey, values[i++] ?? null, r.spec.codec.decode)
      const entry = new Entry<unknown>(storeKey, r.spec.slot, value)
      entry.seq = seq
      r.map.set(r.key, entry)
      this.#size++
    }
    return keys.length
  }

  /**
   * Everything the batch changed: dirty partitions' progress (and replay logs, `withLog`), dirty
   * values, and in journal mode each partition's journal entries or, compacting, its snapshots;
   * the bytes are written into `slab`. `maxEntries` is the cache's bound.
   */
  puts(touched: readonly PartitionState[], slab: ByteSlab, withLog: boolean, maxEntries: number): StateWrite {
    const puts: [string, StateValue][] = []
    const deletes: string[] = []
    const appends: [string, Uint8Array][] = []
    const stores = this.#stores
    const journalMax = this.#journalMax
    // Over the bound, only snapshotted values can be evicted: compact what this batch touched.
    const overCap = this.#size > maxEntries
    for (const p of touched) {
      if (!p.dirty) continue
      p.pending = encodeMeta(p.processedOffset, p.streamTimeMs)
      puts.push([metaKey(this.#prefix, p.topic, p.partition), p.pending])
      if (withLog) {
        puts.push([logKey(this.#prefix, p.topic, p.partition), encodeReplayLog(p.next ?? EMPTY_LOG, slab)])
      }
      if (journalMax === null) continue
      p.compacting = overCap || p.journalBytes + p.entryBytes > journalMax
      if (p.compacting) {
        for (const e of p.journaled) puts.push([e.storeKey, stores[e.slot]!.codec.encode(e.value, slab)])
        if (p.journalBytes > 0) deletes.push(journalKey(this.#prefix, p.topic, p.partition))
      } else if (p.entryBytes > 0) {
        appends.push([journalKey(this.#prefix, p.topic, p.partition), slab.join(p.entries, p.entryBytes)])
      }
    }
    for (const e of this.#dirty) puts.push([e.storeKey, stores[e.slot]!.codec.encode(e.value, slab)])
    return { puts, deletes, appends, slab }
  }

  /**
   * Before the outputs of a batch are produced (outputs-first): each dirty partition's emitted
   * times, and its progress key rewritten unchanged but for `writeId`, so that the next write of
   * whoever else wrote in between fails its guard.
   */
  timesPuts(touched: readonly PartitionState[], slab: ByteSlab, writeId: string): [string, StateValue][] {
    const puts: [string, StateValue][] = []
    for (const p of touched) {
      if (!p.dirty) continue
      p.emitted = EmittedTimes.merge(p.times, p.nextTimes)
      p.pending = encodeMeta(p.storedOffset, p.storedStreamTimeMs, writeId)
      puts.push([metaKey(this.#prefix, p.topic, p.partition), p.pending])
      puts.push([timesKey(this.#prefix, p.topic, p.partition), encodeEmittedTimes(p.emitted, slab)])
    }
    return puts
  }

  /** The emitted times are durable; the batch's state is still to be written (`committed`). */
  timesWritten(touched: readonly PartitionState[]): void {
    for (const p of touched) {
      if (!p.dirty) continue
      p.stored = p.pending
      p.times = p.emitted ?? p.times
      p.pending = null
      p.emitted = null
      p.nextTimes = null
    }
  }

  /** Each written partition's progress key must still hold what this instance knows of it. */
  guards(touched: readonly PartitionState[]): [string, string | null][] {
    const guards: [string, string | null][] = []
    for (const p of touched) if (p.dirty) guards.push([metaKey(this.#prefix, p.topic, p.partition), p.stored])
    return guards
  }

  /** The batch's writes are durable: everything is clean again. */
  committed(touched: readonly PartitionState[], withLog: boolean): void {
    for (const p of touched) {
      // A partition with only re-emits keeps its stored log, which still covers them.
      if (p.dirty) {
        if (withLog) p.log = p.next ?? EMPTY_LOG
        p.stored = p.pending
        p.storedOffset = p.processedOffset
        p.storedStreamTimeMs = p.streamTimeMs
        p.times = p.times.after(p.processedOffset)
        if (p.compacting) {
          for (const e of p.journaled) e.journaled = false
          p.journaled = []
          p.journalBytes = 0
        } else p.journalBytes += p.entryBytes
      }
      p.entries = []
      p.entryBytes = 0
      p.compacting = false
      p.pending = null
      p.next = null
      p.nextTimes = null
      p.emitted = null
      p.dirty = false
    }
    for (const e of this.#dirty) e.dirty = false
    this.#dirty = []
  }

  /** The batch failed: memory may be ahead of the store, so forget its partitions entirely. */
  abort(touched: readonly PartitionState[]): void {
    for (const p of touched) this.drop(p)
    for (const e of this.#dirty) e.dirty = false
    this.#dirty = []
    this.#requested.clear()
  }

  /**
   * Beyond `max` values, evicts the least recently used (never those of batch `seq`) down to 90 %
   * of `max`, so that a cache at its cap does not sort on every batch.
   */
  evict(seq: number, max: number): void {
    if (this.#size <= max) return
    const maps: Map<string, Entry<unknown>>[] = [...this.#global]
    for (const byPartition of this.#parts.values())
      for (const p of byPartition.values()) maps.push(...p.slots)
    const stamps: number[] = []
    // A journaled value is durable only through its journal: it stays until its snapshot is written.
    for (const map of maps)
      for (const e of map.values()) if (e.seq !== seq && !e.journaled) stamps.push(e.seq)
    const excess = Math.min(stamps.length, this.#size - Math.floor(max * 0.9))
    if (excess <= 0) return
    stamps.sort((a, b) => a - b)
    this.#forgetSeen()
    // Evict every value stamped before `cut`, and values stamped `cut` until enough are gone.
    const cut = stamps[excess - 1]!
    let atCut = excess - stamps.indexOf(cut)
    for (const map of maps) {
      for (const [key, e] of map) {
        if (e.journaled || e.seq === seq) continue
        if (e.seq < cut || (e.seq === cut && atCut-- > 0)) {
          map.delete(key)
          this.#size--
        }
      }
    }
  }

  drop(part: PartitionState): void {
    this.#forgetSeen()
    part.dropped = true
    for (const map of part.slots) this.#size -= map.size
    this.#parts.get(part.topic)?.delete(part.partition)
  }

  /** Drops every partition not in `assigned`. */
  retain(assigned: readonly TopicPartition[]): void {
    const keep = new Set(assigned.map(tp => `${tp.topic}\u0000${tp.partition}`))
    for (const p of this.list()) if (!keep.has(`${p.topic}\u0000${p.partition}`)) this.drop(p)
  }

  list(): PartitionState[] {
    const out: PartitionState[] = []
    for (const byPartition of this.#parts.values()) out.push(...byPartition.values())
    return out
  }
}

function decodeWith<R, T>(key: string, raw: R | null, decode: (raw: R | null) => T): T {
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
