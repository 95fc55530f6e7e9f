import type { ByteSlab, ByteWriter } from '../bytes/index.ts'

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
