import { type Reader, Writer } from '@platformatic/kafka'
import type { OutRecord } from '../../../ports/log.ts'
import { type Codec, codecs } from '../compression.ts'
import {
  type BatchSize,
  measureRecordBatch,
  NO_PRODUCER,
  type PartitionBatch,
  type ProducerIdentity,
  writeRecordBatch
} from './record-batch-encode.ts'
import { WireCursor, writeUnsignedVarint } from './wire.ts'

/**
 * Produce (API key 0) versions 9 to 11: the flexible versions, identical on the wire but for
 * tagged fields the response may carry from v10 on (the new leader of a partition), which this
 * parser skips.
 *
 *   Produce Request (v9–v11) => transactional_id acks timeout_ms [topic_data] TAG_BUFFER
 *     transactional_id => COMPACT_NULLABLE_STRING
 *     acks => INT16
 *     timeout_ms => INT32
 *     topic_data => name [partition_data] TAG_BUFFER
 *       name => COMPACT_STRING
 *       partition_data => index records TAG_BUFFER
 *         index => INT32
 *         records => COMPACT_RECORDS (one record batch, record-batch-encode.ts)
 *
 *   Produce Response (v9–v11) => [responses] throttle_time_ms TAG_BUFFER
 *     responses => name [partition_responses] TAG_BUFFER
 *       name => COMPACT_STRING
 *       partition_responses => index error_code base_offset log_append_time_ms log_start_offset
 *           [record_errors] error_message TAG_BUFFER
 *         index => INT32
 *         error_code => INT16
 *         base_offset => INT64
 *         log_append_time_ms => INT64
 *         log_start_offset => INT64
 *         record_errors => batch_index batch_index_error_message TAG_BUFFER
 *           batch_index => INT32
 *           batch_index_error_message => COMPACT_NULLABLE_STRING
 *         error_message => COMPACT_NULLABLE_STRING
 *     throttle_time_ms => INT32
 *
 * The client library builds a small growable buffer per record and per field and copies them
 * together; at the detector's rate that was most of the producer's CPU. Here the request is
 * measured first, then written once into one buffer.
 */

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
 * One Produce request body, a record batch per partition (compressed with `codec`). Every
 * batch is measured first, then written in place: the body is one buffer, taken from
 * `scratch` when given (see RequestScratch), written once.
 */
export function encodeProduceRequest(
  records: readonly OutRecord[],
  batches: readonly PartitionBatch[],
  acks: number,
  timeoutMs: number,
  producer: ProducerIdentity | null,
  now: number,
  scratch?: RequestScratch,
  codec: Codec = codecs.none
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
      const measured = measureRecordBatch(records, b, now, codec)
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

export interface PartitionResult {
  readonly topic: string
  readonly partition: number
  readonly errorCode: number
  readonly baseOffset: number
  readonly errorMessage: string | null
}

/** The response, one result per partition (the first record error's text when no error message). */
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
  // throttle_time_ms after the topics; a hidden property, so results compare as plain arrays.
  return Object.defineProperty(out, 'throttleTimeMs', { value: c.i32() }) as PartitionResult[] & {
    throttleTimeMs: number
  }
}
