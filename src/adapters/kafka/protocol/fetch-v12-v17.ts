import type { Reader } from '@platformatic/kafka'
import { DaroogheError } from '../../../errors.ts'
import { kafkaCodeName } from '../errors.ts'
import type { AbortedTransaction } from './record-batch-decode.ts'
import { WireCursor } from './wire.ts'

/**
 * Fetch (API key 1) responses of versions 12 to 17, read down to each partition's record bytes
 * (left for record-batch-decode.ts). The requests are the client library's (`fetchV12` …
 * `fetchV17.createRequest`). v13 replaced the topic name by its id; v16 and v17 only add
 * tagged fields (a partition's new leader, node endpoints), skipped here.
 *
 *   Fetch Response (v12–v17) => throttle_time_ms error_code session_id [responses] TAG_BUFFER
 *     throttle_time_ms => INT32
 *     error_code => INT16
 *     session_id => INT32
 *     responses => topic [partitions] TAG_BUFFER
 *       topic => COMPACT_STRING (v12) | topic_id UUID (v13+)
 *       partitions => partition_index error_code high_watermark last_stable_offset
 *           log_start_offset [aborted_transactions] preferred_read_replica records TAG_BUFFER
 *         partition_index => INT32
 *         error_code => INT16
 *         high_watermark => INT64
 *         last_stable_offset => INT64
 *         log_start_offset => INT64
 *         aborted_transactions => producer_id first_offset TAG_BUFFER
 *           producer_id => INT64
 *           first_offset => INT64
 *         preferred_read_replica => INT32
 *         records => COMPACT_RECORDS
 */

export interface PartitionData {
  /** Topic id as 32 hex digits (v13+), or the topic name (v12). */
  readonly topic: string
  readonly partition: number
  /** The end of the partition for this reader (see `behind`), -1 when unknown. */
  readonly end: number
  readonly errorCode: number
  readonly aborted: AbortedTransaction[] | null
  readonly records: Buffer | null
}

/**
 * The response, one PartitionData per partition; a top-level error code throws.
 */
export function parseFetchResponse(
  _correlationId: number,
  _apiKey: number,
  apiVersion: number,
  reader: Reader
): PartitionData[] {
  const c = new WireCursor(reader.buffer.buffer, reader.position)
  c.advance(4) // throttle
  const errorCode = c.i16()
  c.advance(4) // session id
  if (errorCode !== 0)
    throw new DaroogheError('KAFKA', `fetch failed with Kafka ${kafkaCodeName(errorCode)} (${errorCode})`)
  const out: PartitionData[] = []
  const topicCount = c.uvarint() - 1
  for (let t = 0; t < topicCount; t++) {
    let topic: string
    if (apiVersion >= 13) {
      topic = c.b.toString('hex', c.at, c.at + 16)
      c.advance(16)
    } else topic = c.compactString() ?? ''
    const partitionCount = c.uvarint() - 1
    for (let p = 0; p < partitionCount; p++) {
      const partition = c.i32()
      const code = c.i16()
      const highWatermark = c.i64()
      const lastStable = c.i64()
      c.advance(8) // log start offset
      const abortedCount = c.uvarint() - 1
      let aborted: AbortedTransaction[] | null = null
      if (abortedCount > 0) {
        aborted = []
        for (let a = 0; a < abortedCount; a++) {
          const producerId = c.b.readBigInt64BE(c.at)
          c.advance(8)
          aborted.push({ producerId, firstOffset: c.i64() })
          c.skipTags()
        }
      }
      c.advance(4) // preferred read replica
      const size = c.uvarint() - 1
      const records = size > 0 ? c.b.subarray(c.at, c.at + size) : null
      if (size > 0) c.advance(size)
      c.skipTags()
      out.push({
        topic,
        partition,
        errorCode: code,
        aborted,
        records,
        // What a reader of this isolation level can reach: the last stable offset under
        // read_committed (-1 when the broker does not say), else the high watermark.
        end: lastStable >= 0 ? lastStable : highWatermark
      })
    }
    c.skipTags()
  }
  return out
}
