import { createRequire } from 'node:module'
import { crc32c as libraryCrc32c } from '@platformatic/kafka'
import type { OutRecord } from '../../../ports/log.ts'
import { type Codec, codecs } from '../compression.ts'
import { varintSize, varlongSize, writeInt64, writeUtf8, writeVarint, writeVarlong } from './wire.ts'

/**
 * Encoder of record batches (message format v2) from our OutRecords.
 *
 *   RecordBatch => baseOffset:int64 batchLength:int32 partitionLeaderEpoch:int32 magic:int8(2)
 *     crc:uint32 attributes:int16 lastOffsetDelta:int32 baseTimestamp:int64 maxTimestamp:int64
 *     producerId:int64 producerEpoch:int16 baseSequence:int32 recordCount:int32 records
 *   attributes: bits 0–2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd), bit 3 timestamp
 *     type, bit 4 transactional, bit 5 control
 *   records: Record* , or with compression the codec's output of the Record* bytes
 *   Record => length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
 *     keyLength:varint key valueLength:varint value headerCount:varint Header*
 *   Header => keyLength:varint key valueLength:varint value
 *   crc: CRC-32C of everything from attributes to the end (after compression)
 *
 * Each batch is measured first, then written once, straight from the records (strings or
 * buffers) into the request's buffer. Without compression nothing else is allocated; with it,
 * the records are written to a buffer of their own, which the codec compresses.
 */

export interface PartitionBatch {
  readonly topic: string
  readonly partition: number
  /** Indexes into the send's records, in order. */
  readonly indexes: readonly number[]
  /** First sequence number of the batch (idempotent producer), -1 without one. */
  baseSequence: number
}

export interface ProducerIdentity {
  readonly producerId: bigint
  readonly producerEpoch: number
}

export const BATCH_HEADER = 61 // baseOffset … recordCount

/**
 * CRC-32C of a record batch. The native @node-rs/crc32 (the client library's own optional
 * dependency) over our bytes as they are: the library's wrapper first copies them into a new
 * Uint8Array, a megabyte and more of fresh memory per request. Without the native module, the
 * library's function.
 */
const crc32c: (bytes: Uint8Array) => number = (() => {
  try {
    const native = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c(b: Uint8Array): number }
    return (bytes: Uint8Array) => native.crc32c(bytes)
  } catch {
    return (bytes: Uint8Array) => libraryCrc32c(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  }
})()
export const NO_PRODUCER: ProducerIdentity = { producerId: -1n, producerEpoch: -1 }

/** A record batch's size, and what writing it needs: each record's body size and the timestamps. */
export interface BatchSize {
  readonly total: number
  readonly bodies: number[]
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly codec: Codec
  /** The records section as the codec compressed it; null without compression. */
  readonly compressed: Buffer | null
}

/** One record batch (v2) of a partition's records, in a buffer of its own; timestamps default to `now`. */
export function encodeRecordBatch(
  records: readonly OutRecord[],
  batch: PartitionBatch,
  producer: ProducerIdentity,
  now: number,
  codec: Codec = codecs.none
): Buffer {
  const measured = measureRecordBatch(records, batch, now, codec)
  const out = Buffer.allocUnsafe(measured.total)
  writeRecordBatch(out, 0, records, batch, measured, producer, now)
  return out
}

/**
 * Pass 1: each record's body size, so that each length prefix is known before writing; with
 * compression, the records section written and compressed (its size is the compressed one).
 */
export function measureRecordBatch(
  records: readonly OutRecord[],
  batch: PartitionBatch,
  now: number,
  codec: Codec = codecs.none
): BatchSize {
  const { indexes } = batch
  const first = records[indexes[0]!]!
  const baseTimestamp = Math.round(first.timestamp ?? now)
  let maxTimestamp = baseTimestamp
  const bodies = new Array<number>(indexes.length)
  let total = BATCH_HEADER
  for (let i = 0; i < indexes.length; i++) {
    const r = records[indexes[i]!]!
    const ts = Math.round(r.timestamp ?? now)
    if (ts > maxTimestamp) maxTimestamp = ts
    let body = 1 + varlongSize(ts - baseTimestamp) + varintSize(i)
    body += fieldSize(r.key ?? null) + fieldSize(r.value)
    const headers = r.headers
    let count = 0
    if (headers) {
      for (const name in headers) {
        body += fieldSize(name) + fieldSize(headers[name]!)
        count++
      }
    }
    body += varintSize(count)
    bodies[i] = body
    total += varintSize(body) + body
  }
  const size = { total, bodies, baseTimestamp, maxTimestamp, codec, compressed: null }
  if (codec.bitmask === 0) return size
  const raw = Buffer.allocUnsafe(total - BATCH_HEADER)
  writeRecords(raw, 0, records, batch, size, now)
  const compressed = codec.compress(raw)
  return { ...size, total: BATCH_HEADER + compressed.length, compressed }
}

/** Pass 2: the batch at `start` of `out`; returns the position after it. */
export function writeRecordBatch(
  out: Buffer,
  start: number,
  records: readonly OutRecord[],
  batch: PartitionBatch,
  size: BatchSize,
  producer: ProducerIdentity,
  now: number
): number {
  const { indexes } = batch
  // Header; the CRC (bytes 17–20) covers attributes to the end and is written last.
  writeInt64(out, start, 0) // base offset: the broker assigns it
  out.writeInt32BE(size.total - 12, start + 8)
  out.writeInt32BE(-1, start + 12) // partition leader epoch: the broker's to set
  out[start + 16] = 2 // magic
  out.writeInt16BE(size.codec.bitmask, start + 21) // attributes: compression, create time, not transactional
  out.writeInt32BE(indexes.length - 1, start + 23)
  writeInt64(out, start + 27, size.baseTimestamp)
  writeInt64(out, start + 35, size.maxTimestamp)
  out.writeBigInt64BE(producer.producerId, start + 43)
  out.writeInt16BE(producer.producerEpoch, start + 51)
  out.writeInt32BE(batch.baseSequence, start + 53)
  out.writeInt32BE(indexes.length, start + 57)
  let at = start + BATCH_HEADER
  if (size.compressed !== null) {
    out.set(size.compressed, at)
    at += size.compressed.length
  } else at = writeRecords(out, at, records, batch, size, now)
  if (at - start !== size.total)
    throw new Error(`record batch of ${at - start} bytes, measured ${size.total}`)
  out.writeUInt32BE(crc32c(out.subarray(start + 21, at)), start + 17)
  return at
}

/** The Record* section at `at` of `out`; returns the position after it. */
function writeRecords(
  out: Buffer,
  at: number,
  records: readonly OutRecord[],
  batch: PartitionBatch,
  size: Pick<BatchSize, 'bodies' | 'baseTimestamp'>,
  now: number
): number {
  const { indexes } = batch
  const { bodies, baseTimestamp } = size
  for (let i = 0; i < indexes.length; i++) {
    const r = records[indexes[i]!]!
    at = writeVarint(out, at, bodies[i]!)
    out[at++] = 0 // record attributes
    at = writeVarlong(out, at, Math.round(r.timestamp ?? now) - baseTimestamp)
    at = writeVarint(out, at, i)
    at = writeField(out, at, r.key ?? null)
    at = writeField(out, at, r.value)
    const headers = r.headers
    if (headers) {
      let count = 0
      for (const _ in headers) count++
      at = writeVarint(out, at, count)
      for (const name in headers) {
        at = writeField(out, at, name)
        at = writeField(out, at, headers[name]!)
      }
    } else out[at++] = 0
  }
  return at
}

function fieldSize(v: Buffer | string | null): number {
  if (v === null) return 1
  const n = typeof v === 'string' ? Buffer.byteLength(v) : v.length
  return varintSize(n) + n
}

function writeField(out: Buffer, at: number, v: Buffer | string | null): number {
  if (v === null) {
    out[at] = 1 // zigzag(-1)
    return at + 1
  }
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v)
    at = writeVarint(out, at, n)
    return at + writeUtf8(out, at, v)
  }
  at = writeVarint(out, at, v.length)
  out.set(v, at)
  return at + v.length
}
