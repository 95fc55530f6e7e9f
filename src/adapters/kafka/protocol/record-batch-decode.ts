import { setHeader } from '../records.ts'
import { codecName, codecOf } from '../compression.ts'
import { type LogRecord, type UndecodableReason, UndecodableBatchRecord } from '../../../ports/log.ts'
import { WireCursor } from './wire.ts'

/**
 * Decoder of Kafka record batches (message format v2) straight into LogRecords.
 *
 * The client library decodes every record into an intermediate object (one small array per
 * varint, a Map of headers, a spread copy and a bound commit function per message) before we
 * copy it once more into a LogRecord; at tens of thousands of records a second that was a
 * third of the consumer's CPU. Here a fetch response's bytes are walked once: keys and values
 * are views of the response buffer, offsets and timestamps are numbers.
 *
 * Batch layout (bytes): baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 |
 * crc u32 | attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
 * producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 | records…
 * Record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
 * key varbytes | value varbytes | headerCount varint | (key varstring, value varbytes)*.
 *
 * A batch that cannot be read (its compression fails or names no codec, its records do not
 * parse to exactly its end, or it is not message format v2) is never skipped silently and
 * never stops the stream: in its place the output gets one UndecodableBatchRecord (ports/log.ts)
 * at the batch's last offset, and decoding goes on with the next batch. See ../README.md.
 */

const BATCH_OVERHEAD = 12 // baseOffset + batchLength: bytes before the length counts
const RECORDS_START = 61 // first record, from the batch start
const COMPRESSION_MASK = 0b111
const TRANSACTIONAL = 1 << 4
const CONTROL = 1 << 5
const ABORT_MARKER = 0

/** An aborted transaction of a fetch response (read_committed): its producer and first offset. */
export interface AbortedTransaction {
  readonly producerId: bigint
  readonly firstOffset: number
}

export interface DecodedBatches {
  /** Offset after the last complete batch decoded; `fromOffset` when none was complete. */
  readonly nextOffset: number
  /** Records appended to the output array. */
  readonly count: number
}

/**
 * Appends to `out` the records of `bytes` (one partition's record set of a fetch response)
 * whose offset is at least `fromOffset`. A batch cut at the end of the response (the broker
 * fills up to the byte limit) is left for the next fetch. With `aborted` (read_committed),
 * the batches of aborted transactions are skipped, as the Java client does; control batches
 * are always skipped, but the offset moves past them.
 */
export function decodeRecordBatches(
  bytes: Buffer,
  topic: string,
  partition: number,
  fromOffset: number,
  aborted: readonly AbortedTransaction[] | null,
  out: LogRecord[]
): DecodedBatches {
  let pos = 0
  let next = fromOffset
  let count = 0
  const pending =
    aborted && aborted.length > 0 ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset) : null
  const abortedProducers = new Set<bigint>()
  let pendingAt = 0
  while (pos + BATCH_OVERHEAD <= bytes.length) {
    const baseOffset = readInt64(bytes, pos)
    const batchLength = bytes.readInt32BE(pos + 8)
    const end = pos + BATCH_OVERHEAD + batchLength
    if (end > bytes.length || batchLength < 5) break
    const batchStart = pos
    pos = end
    const magic = bytes[batchStart + 16]!
    if (magic !== 2 || batchLength < RECORDS_START - BATCH_OVERHEAD) {
      // Message formats v0 and v1 (gone since Kafka 4) share the first 17 bytes with v2, and
      // the offset they start with is the entry's last offset.
      if (baseOffset < fromOffset) continue
      next = baseOffset + 1
      const cause =
        magic !== 2 ? `message format v${magic}; only v2 (Kafka >= 0.11) is read` : 'batch too short'
      out.push(
        undecodable('unsupported_format', topic, partition, baseOffset, baseOffset, '?', cause, Date.now())
      )
      count++
      continue
    }
    const attributes = bytes.readInt16BE(batchStart + 21)
    const lastOffset = baseOffset + bytes.readInt32BE(batchStart + 23)
    if (lastOffset < fromOffset) continue
    next = lastOffset + 1

    if (pending !== null && (attributes & TRANSACTIONAL) !== 0) {
      const producerId = bytes.readBigInt64BE(batchStart + 43)
      while (pendingAt < pending.length && pending[pendingAt]!.firstOffset <= lastOffset) {
        abortedProducers.add(pending[pendingAt++]!.producerId)
      }
      if ((attributes & CONTROL) !== 0) {
        if (controlType(bytes, batchStart, end) === ABORT_MARKER) abortedProducers.delete(producerId)
        continue
      }
      if (abortedProducers.has(producerId)) continue
    }
    if ((attributes & CONTROL) !== 0) continue

    // An empty batch (compaction keeps the header of a batch whose records it removed, with
    // its attributes, compression bits too): nothing to decompress or read.
    if (end === batchStart + RECORDS_START && bytes.readInt32BE(batchStart + 57) === 0) continue
    const bits = attributes & COMPRESSION_MASK
    let records: Buffer
    let reason: UndecodableReason | null = null
    let cause = ''
    const codec = codecOf(bits)
    if (codec === undefined) {
      reason = 'unknown_codec'
      cause = `compression bits ${bits} name no codec`
      records = bytes
    } else if (bits === 0) {
      // A view ending at the batch: a length read wrong cannot reach into the next batch.
      records = bytes.subarray(0, end)
    } else {
      try {
        records = codec.decompress(bytes.subarray(batchStart + RECORDS_START, end))
      } catch (error) {
        reason = 'decompress_failed'
        cause = describe(error)
        records = bytes
      }
    }
    if (reason === null) {
      const mark = out.length
      try {
        decodeRecords(
          records,
          bits === 0 ? batchStart + RECORDS_START : 0,
          bytes,
          batchStart,
          topic,
          partition,
          fromOffset,
          out
        )
        count += out.length - mark
        continue
      } catch (error) {
        out.length = mark
        reason = 'corrupt_records'
        cause = describe(error)
      }
    }
    const maxTimestamp = readInt64(bytes, batchStart + 35)
    out.push(
      undecodable(
        reason,
        topic,
        partition,
        baseOffset,
        lastOffset,
        codecName(bits),
        cause,
        maxTimestamp > 0 ? maxTimestamp : Date.now()
      )
    )
    count++
  }
  return { nextOffset: next, count }
}

/**
 * The records of one batch, from `at` of `records` (the response itself for an uncompressed
 * batch, cut at the batch's end, or the decompressed bytes). Throws when they do not parse to
 * exactly the end: a length or a count is wrong.
 */
function decodeRecords(
  records: Buffer,
  at: number,
  bytes: Buffer,
  batchStart: number,
  topic: string,
  partition: number,
  fromOffset: number,
  out: LogRecord[]
): void {
  const baseOffset = readInt64(bytes, batchStart)
  const baseTimestamp = readInt64(bytes, batchStart + 27)
  const recordCount = bytes.readInt32BE(batchStart + 57)
  const c = new WireCursor(records, at)
  for (let i = 0; i < recordCount; i++) {
    c.skipVarint() // record length
    c.advance(1) // attributes
    const tsDelta = c.varint()
    const offsetDelta = c.varint()
    const keyLength = c.varint()
    const keyAt = c.at
    if (keyLength > 0) c.advance(keyLength)
    const value = c.varBytes()
    const headerCount = c.varint()
    let headers: Record<string, string> = NO_HEADERS
    if (headerCount > 0) {
      headers = {}
      for (let h = 0; h < headerCount; h++) setHeader(headers, c.varString(), c.varString())
    }
    const offset = baseOffset + offsetDelta
    if (offset < fromOffset) continue
    out.push(
      new FetchedRecord(
        topic,
        partition,
        offset,
        value,
        headers,
        baseTimestamp + tsDelta,
        records,
        keyAt,
        keyLength
      )
    )
  }
  if (c.at !== records.length) {
    throw new Error(
      `${recordCount} records end at byte ${c.at - at} of ${records.length - at}: a length or the count is wrong`
    )
  }
}

function undecodable(
  reason: UndecodableReason,
  topic: string,
  partition: number,
  baseOffset: number,
  lastOffset: number,
  codec: string,
  cause: string,
  timestamp: number
): UndecodableBatchRecord {
  return new UndecodableBatchRecord(
    { reason, topic, partition, baseOffset, lastOffset, codec, cause },
    timestamp
  )
}

/** An error as one short line. */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  const line = text.replace(/\s+/g, ' ')
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>

/**
 * A fetched record. Its key is cut from the response only when read: the detector keys its
 * outputs by the event's customer id and never reads the input key, and a Buffer view per
 * record is a tenth of what decoding a record allocates.
 */
class FetchedRecord implements LogRecord {
  readonly #bytes: Buffer
  readonly #keyAt: number
  readonly #keyLength: number

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly value: Buffer | null,
    readonly headers: Readonly<Record<string, string>>,
    readonly timestamp: number,
    bytes: Buffer,
    keyAt: number,
    /** -1: a null key. */
    keyLength: number
  ) {
    this.#bytes = bytes
    this.#keyAt = keyAt
    this.#keyLength = keyLength
  }

  get key(): Buffer | null {
    return this.#keyLength < 0 ? null : this.#bytes.subarray(this.#keyAt, this.#keyAt + this.#keyLength)
  }
}

/** The type of a control batch's record (0 abort, 1 commit), from its key: version i16, type i16. */
function controlType(bytes: Buffer, batchStart: number, end: number): number {
  const c = new WireCursor(bytes.subarray(0, end), batchStart + RECORDS_START)
  c.skipVarint() // record length
  c.advance(1) // attributes
  c.varint() // timestamp delta
  c.varint() // offset delta
  const key = c.varBytes()
  return key !== null && key.length >= 4 ? key.readInt16BE(2) : -1
}

/** Offsets and timestamps fit a double exactly (below 2^53). */
function readInt64(b: Buffer, at: number): number {
  return b.readInt32BE(at) * 4_294_967_296 + b.readUInt32BE(at + 4)
}
