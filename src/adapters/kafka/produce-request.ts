import { createRequire } from 'node:module'
import { crc32c as libraryCrc32c, type Reader, Writer } from '@platformatic/kafka'
import type { OutRecord } from '../../ports/log.ts'
import { WireCursor, writeUtf8 } from './wire.ts'

/**
 * Encoder of Produce requests (v9–v11) and their record batches (message format v2), written
 * into one buffer per request, and the parser of the response.
 *
 * The client library builds a small growable buffer per record and per field and copies them
 * together; at the detector's rate that was most of the producer's CPU. Here each batch is
 * measured first, then written once: keys, values and headers go straight from our records
 * (strings or buffers) into the request.
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

const BATCH_HEADER = 61 // baseOffset … recordCount

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
const NO_PRODUCER: ProducerIdentity = { producerId: -1n, producerEpoch: -1 }

/**
 * Where request bodies are written: one buffer, grown when a request needs more and reused by
 * the next request. Reuse is safe because the connection copies the body into its own framed
 * request synchronously within `send` (the header and the body are joined by one
 * Buffer.concat); the next request is encoded only after that returned. Without a scratch,
 * every request allocates its body: fresh external memory that forces minor collections.
 */
export class RequestScratch {
  #buf: Buffer = Buffer.alloc(0)

  /** A buffer of at least `size` bytes, valid until the next `take`. */
  take(size: number): Buffer {
    if (this.#buf.length < size)
      this.#buf = Buffer.allocUnsafeSlow(Math.max(size, this.#buf.length * 2, 64 << 10))
    return this.#buf
  }
}

/**
 * One Produce request body: transactional_id (null) | acks | timeout_ms | [topic_data] |
 * TAG_BUFFER, where topic_data is name | [index | records | TAG_BUFFER] | TAG_BUFFER.
 * Every record batch is measured first, then written in place: the body is one buffer, taken
 * from `scratch` when given (see RequestScratch), written once.
 */
export function encodeProduceRequest(
  records: readonly OutRecord[],
  batches: readonly PartitionBatch[],
  acks: number,
  timeoutMs: number,
  producer: ProducerIdentity | null,
  now: number,
  scratch?: RequestScratch
): Writer {
  const byTopic = new Map<string, PartitionBatch[]>()
  for (const b of batches) {
    const list = byTopic.get(b.topic)
    if (list) list.push(b)
    else byTopic.set(b.topic, [b])
  }
  const sizes = new Map<PartitionBatch, BatchSize>()
  let size = 1 + 2 + 4 + 5 + 1
  for (const [topic, list] of byTopic) {
    size += 5 + Buffer.byteLength(topic) + 5 + 1 + list.length * (4 + 5 + 1)
    for (const b of list) {
      const measured = measureRecordBatch(records, b, now)
      sizes.set(b, measured)
      size += measured.total
    }
  }
  const out = scratch ? scratch.take(size) : Buffer.allocUnsafe(size)
  let at = 0
  out[at++] = 0 // transactional_id: null
  at = out.writeInt16BE(acks, at)
  at = out.writeInt32BE(timeoutMs, at)
  at = writeUnsignedVarint(out, at, byTopic.size + 1)
  for (const [topic, list] of byTopic) {
    const name = Buffer.byteLength(topic)
    at = writeUnsignedVarint(out, at, name + 1)
    at += out.write(topic, at)
    at = writeUnsignedVarint(out, at, list.length + 1)
    for (const b of list) {
      const measured = sizes.get(b)!
      at = out.writeInt32BE(b.partition, at)
      at = writeUnsignedVarint(out, at, measured.total + 1)
      at = writeRecordBatch(out, at, records, b, measured, producer ?? NO_PRODUCER, now)
      out[at++] = 0 // partition TAG_BUFFER
    }
    out[at++] = 0 // topic TAG_BUFFER
  }
  out[at++] = 0 // request TAG_BUFFER
  return Writer.create().append(out.subarray(0, at))
}

/** One record batch (v2) of a partition's records, in a buffer of its own; timestamps default to `now`. */
export function encodeRecordBatch(
  records: readonly OutRecord[],
  batch: PartitionBatch,
  producer: ProducerIdentity,
  now: number
): Buffer {
  const measured = measureRecordBatch(records, batch, now)
  const out = Buffer.allocUnsafe(measured.total)
  writeRecordBatch(out, 0, records, batch, measured, producer, now)
  return out
}

/** A record batch's size, and what writing it needs: each record's body size and the timestamps. */
interface BatchSize {
  readonly total: number
  readonly bodies: number[]
  readonly baseTimestamp: number
  readonly maxTimestamp: number
}

/** Pass 1: each record's body size, so that each length prefix is known before writing. */
function measureRecordBatch(records: readonly OutRecord[], batch: PartitionBatch, now: number): BatchSize {
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
  return { total, bodies, baseTimestamp, maxTimestamp }
}

/** Pass 2: the batch at `start` of `out`; returns the position after it. */
function writeRecordBatch(
  out: Buffer,
  start: number,
  records: readonly OutRecord[],
  batch: PartitionBatch,
  size: BatchSize,
  producer: ProducerIdentity,
  now: number
): number {
  const { indexes } = batch
  const { bodies, baseTimestamp } = size
  // Header; the CRC (bytes 17–20) covers attributes to the end and is written last.
  writeInt64(out, start, 0) // base offset: the broker assigns it
  out.writeInt32BE(size.total - 12, start + 8)
  out.writeInt32BE(-1, start + 12) // partition leader epoch: the broker's to set
  out[start + 16] = 2 // magic
  out.writeInt16BE(0, start + 21) // attributes: no compression, not transactional
  out.writeInt32BE(indexes.length - 1, start + 23)
  writeInt64(out, start + 27, baseTimestamp)
  writeInt64(out, start + 35, size.maxTimestamp)
  out.writeBigInt64BE(producer.producerId, start + 43)
  out.writeInt16BE(producer.producerEpoch, start + 51)
  out.writeInt32BE(batch.baseSequence, start + 53)
  out.writeInt32BE(indexes.length, start + 57)
  let at = start + BATCH_HEADER
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
  if (at - start !== size.total)
    throw new Error(`record batch of ${at - start} bytes, measured ${size.total}`)
  out.writeUInt32BE(crc32c(out.subarray(start + 21, at)), start + 17)
  return at
}

export interface PartitionResult {
  readonly topic: string
  readonly partition: number
  readonly errorCode: number
  readonly baseOffset: number
  readonly errorMessage: string | null
}

/**
 * Produce response v9–v11: [responses] | throttle_time_ms | TAG_BUFFER, where a response is
 * name | [index | error_code | base_offset | log_append_time_ms | log_start_offset |
 * [record_errors] | error_message | TAG_BUFFER] | TAG_BUFFER.
 */
export function parseProduceResponse(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  reader: Reader
): PartitionResult[] & { throttleTimeMs: number } {
  const c = new WireCursor(reader.buffer.buffer, reader.position)
  const out: PartitionResult[] = []
  const topics = c.uvarint() - 1
  for (let t = 0; t < topics; t++) {
    const topic = c.compactString() ?? ''
    const partitions = c.uvarint() - 1
    for (let p = 0; p < partitions; p++) {
      const partition = c.i32()
      const errorCode = c.i16()
      const baseOffset = c.i64()
      c.advance(8 + 8) // log append time, log start offset
      const recordErrors = c.uvarint() - 1
      let message: string | null = null
      for (let e = 0; e < recordErrors; e++) {
        c.advance(4) // batch index
        const text = c.compactString() // read even when a message is already kept
        message ??= text
        c.skipTags()
      }
      const m = c.compactString()
      c.skipTags()
      out.push({ topic, partition, errorCode, baseOffset, errorMessage: m ?? message })
    }
    c.skipTags()
  }
  // The broker's quota asks for this long without requests to it (see produce-state.ts Throttle).
  // (Not enumerable: the result still compares equal to the plain array of partition results.)
  return Object.defineProperty(out, 'throttleTimeMs', { value: c.i32() }) as PartitionResult[] & {
    throttleTimeMs: number
  }
}

// ---------------------------------------------------------------- wire helpers

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

function writeInt64(out: Buffer, at: number, value: number): void {
  const high = Math.floor(value / 4_294_967_296)
  out.writeInt32BE(high, at)
  out.writeUInt32BE(value - high * 4_294_967_296, at + 4)
}

function varintSize(value: number): number {
  return unsignedSize(((value << 1) ^ (value >> 31)) >>> 0)
}

function unsignedSize(u: number): number {
  let n = 1
  while (u >= 0x80) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}

function varlongSize(value: number): number {
  return unsignedSize(value >= 0 ? value * 2 : -value * 2 - 1)
}

function writeUnsignedVarint(out: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    out[at++] = (u & 0x7f) | 0x80
    u = Math.floor(u / 128)
  }
  out[at++] = u
  return at
}

function writeVarint(out: Buffer, at: number, value: number): number {
  return writeUnsignedVarint(out, at, ((value << 1) ^ (value >> 31)) >>> 0)
}

function writeVarlong(out: Buffer, at: number, value: number): number {
  return writeUnsignedVarint(out, at, value >= 0 ? value * 2 : -value * 2 - 1)
}
