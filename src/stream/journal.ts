import type { ByteSlab, ByteWriter } from '../bytes/index.ts'
import { DaroogheError } from '../errors.ts'
import type { StateValue } from '../ports/state-store.ts'
import { journalKey, type Entry, type StoreSpec } from './keyed-state.ts'
import type { PartitionState } from './partition-state.ts'
import type { KeyRequests, TaskContext, TaskContextImpl } from './task-context.ts'

/**
 * Partition journals: the state's changelog, kept in the state store beside the snapshots (the
 * role of a Kafka Streams changelog topic). A batch does not rewrite every value it changed:
 * it appends one entry per processed record, the change that record made (for the fraud
 * logic about 80 bytes: the transaction folded into its customer and merchant), in one APPEND
 * per partition. Values are snapshotted only when a partition's journal outgrows its limit or
 * the cache its bound: that batch writes the values changed since the last snapshot and
 * deletes the journal, in the same atomic write. A value touched ten times between two
 * snapshots is encoded and sent once instead of ten times.
 *
 * Restoring a partition is its snapshots plus its journal replayed in order (the logic applies
 * each entry exactly as processing did). Until its snapshot is written, a changed value stays
 * in memory (eviction skips it).
 *
 * An entry is framed as `u16 length | bytes` (the logic's format inside, with its own version
 * byte): appends from different versions of the program can share one journal.
 */

/** What writes the entries of a journal. */
export interface EntryWriter<R> {
  /** Upper bound of one entry's bytes. */
  readonly maxEntryBytes: number
  /** Writes the state change that processing made for `result`; false if it changed nothing. */
  write(result: R, w: ByteWriter): boolean
}

/** Writes the entry of `result` as one frame (null: it changed nothing, nothing is kept). */
export function writeFrame<R>(slab: ByteSlab, writer: EntryWriter<R>, result: R): Buffer | null {
  const w = slab.begin(2 + writer.maxEntryBytes)
  w.u16(0)
  if (!writer.write(result, w)) return null
  const length = w.pos - w.start - 2
  w.buf.writeUInt16LE(length, w.start)
  return slab.end()
}

/** The entries of a journal, in order; throws a RangeError on a cut or malformed journal. */
export function readFrames(journal: Buffer): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  while (at < journal.length) {
    if (at + 2 > journal.length) throw new RangeError(`journal cut inside an entry header at byte ${at}`)
    const length = journal.readUInt16LE(at)
    if (at + 2 + length > journal.length) throw new RangeError(`journal cut inside an entry at byte ${at}`)
    out.push(journal.subarray(at + 2, at + 2 + length))
    at += 2 + length
  }
  return out
}

/** How a logic records and replays its state changes. */
export interface TaskJournal<R> extends EntryWriter<R> {
  /** Restore: requests every key `apply` reads or changes. */
  keys(entry: Buffer, keys: KeyRequests): void
  /** Restore: changes the state exactly as processing the record did, marking what it changes. */
  apply(entry: Buffer, ctx: TaskContext): void
}

/**
 * The journal layer of the partition-scoped state: what a batch appends, when a partition is
 * compacted instead, and how a loaded journal is replayed. The hot cache hands it the values
 * that change (`track`); the state write asks it what to write (`puts`).
 */
export class JournalLayer<R> {
  constructor(
    readonly logic: TaskJournal<R>,
    readonly keyPrefix: string,
    /** A partition is compacted once its journal would pass this many bytes. */
    readonly maxBytes: number
  ) {}

  key(p: PartitionState): string {
    return journalKey(this.keyPrefix, p.topic, p.partition)
  }

  /** The record's state change, appended to its partition's entries of the batch. */
  record(part: PartitionState, r: R, slab: ByteSlab): void {
    const entry = writeFrame(slab, this.logic, r)
    if (entry === null) return
    part.entries.push(entry)
    part.entryBytes += entry.length
  }

  /** `entry` changed: durable only through the journal until the next compaction snapshots it. */
  track(part: PartitionState, entry: Entry<unknown>): void {
    if (entry.journaled) return
    entry.journaled = true
    part.journaled.push(entry)
  }

  /** The partition's journal as loaded (null: none), to be replayed by `restore`. */
  loaded(part: PartitionState, journal: Buffer | null): void {
    part.restoring = journal !== null && journal.length > 0 ? journal : null
    part.journalBytes = journal?.length ?? 0
  }

  /**
   * A dirty partition's part of the state write: its batch's entries appended to its journal,
   * or, compacting (journal too long, or the cache over its bound: only snapshotted values can
   * be evicted), snapshots of every value changed since the last compaction and the journal
   * deleted.
   */
  puts(
    p: PartitionState,
    overCap: boolean,
    stores: readonly StoreSpec<unknown>[],
    w: { puts: [string, StateValue][]; deletes: string[]; appends: [string, Uint8Array][] },
    slab: ByteSlab
  ): void {
    p.compacting = overCap || p.journalBytes + p.entryBytes > this.maxBytes
    if (p.compacting) {
      for (const e of p.journaled) w.puts.push([e.storeKey, stores[e.slot]!.codec.encode(e.value, slab)])
      if (p.journalBytes > 0) w.deletes.push(this.key(p))
    } else if (p.entryBytes > 0) {
      w.appends.push([this.key(p), slab.join(p.entries, p.entryBytes)])
    }
  }

  /** The partition's write is durable. */
  written(p: PartitionState): void {
    if (p.compacting) {
      for (const e of p.journaled) e.journaled = false
      p.journaled = []
      p.journalBytes = 0
    } else p.journalBytes += p.entryBytes
  }

  /**
   * Replays the journals of the partitions just loaded, after loading every value their entries
   * touch (`load`: one more `getMany`). Returns the keys read.
   */
  async restore(
    loaded: readonly PartitionState[],
    ctx: TaskContextImpl,
    load: () => Promise<number>
  ): Promise<number> {
    const parts = loaded.filter(p => p.restoring !== null)
    if (parts.length === 0) return 0
    const entries = parts.map(p => {
      try {
        return readFrames(p.restoring!)
      } catch (cause) {
        throw this.#bad(p, cause)
      }
    })
    const replay = (each: (entry: Buffer) => void): void => {
      parts.forEach((p, i) => {
        ctx.part = p
        for (const entry of entries[i]!) {
          try {
            each(entry)
          } catch (cause) {
            throw this.#bad(p, cause)
          }
        }
      })
    }
    replay(entry => this.logic.keys(entry, ctx))
    const read = await load()
    replay(entry => this.logic.apply(entry, ctx))
    for (const p of parts) p.restoring = null
    return read
  }

  #bad(p: PartitionState, cause: unknown): DaroogheError {
    if (cause instanceof DaroogheError) return cause
    return new DaroogheError(
      'CONFIG',
      `state key '${this.key(p)}' is not in this version's format: clear the state store or use another key prefix`,
      { cause }
    )
  }
}
