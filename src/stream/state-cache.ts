import { DaroogheError } from '../errors.ts'
import type { TopicPartition } from '../ports/log.ts'
import type { StateStore } from '../ports/state-store.ts'
import { decodeMeta } from './fence.ts'
import { Entry, globalKey, logKey, metaKey, timesKey, partitionKey, type StoreSpec } from './keyed-state.ts'
import type { JournalLayer } from './journal.ts'
import { PartitionState } from './partition-state.ts'
import { decodeReplayLog } from './replay-log.ts'
import { decodeEmittedTimes } from './emitted-times.ts'

interface Request {
  /** Null for a global store. */
  readonly part: PartitionState | null
  readonly map: Map<string, Entry<unknown>>
  readonly key: string
  readonly spec: StoreSpec<unknown>
}

/**
 * The hot copy of the keyed state: per partition (dropped when the partition leaves) plus the
 * read-only global stores; knows what a batch must load and what it dirtied. Least recently
 * used clean values are evicted after each batch beyond `maxEntries`.
 *
 * With a journal layer (journal.ts), a changed partition-scoped value is not written as it
 * changes: the layer tracks it until its partition's next compaction. What a batch writes is
 * put together in state-write.ts.
 */
export class StateCache {
  readonly #stores: readonly StoreSpec<unknown>[]
  readonly #prefix: string
  readonly #parts = new Map<string, Map<number, PartitionState>>()
  readonly #global: Map<string, Entry<unknown>>[]
  readonly #requested = new Map<string, Request>()
  #dirty: Entry<unknown>[] = []
  #size = 0
  readonly #journal: JournalLayer<unknown> | null
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
    journal: JournalLayer<unknown> | null = null
  ) {
    stores.forEach((s, i) => {
      if (s.slot !== i)
        throw new DaroogheError('INTERNAL', `store '${s.name}' has slot ${s.slot}, expected ${i}`)
    })
    this.#stores = stores
    this.#prefix = keyPrefix
    this.#global = stores.map(() => new Map())
    this.#journal = journal
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

  get stores(): readonly StoreSpec<unknown>[] {
    return this.#stores
  }

  get keyPrefix(): string {
    return this.#prefix
  }

  /** Values changed since the last write that no journal keeps. */
  get dirtyValues(): readonly Entry<unknown>[] {
    return this.#dirty
  }

  /** The dirty values are written. */
  clean(): void {
    for (const e of this.#dirty) e.dirty = false
    this.#dirty = []
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
    if (this.#journal !== null && this.#stores[entry.slot]!.scope === 'partition') {
      this.#journal.track(part, entry)
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
    const journal = this.#journal
    for (const p of toLoad) {
      keys.push(
        metaKey(this.#prefix, p.topic, p.partition),
        logKey(this.#prefix, p.topic, p.partition),
        timesKey(this.#prefix, p.topic, p.partition)
      )
      if (journal !== null) keys.push(journal.key(p))
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
        i += journal !== null ? 4 : 3
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
      if (journal !== null) journal.loaded(part, values[i++] ?? null)
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
