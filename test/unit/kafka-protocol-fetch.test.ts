import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fetchV12, fetchV13, fetchV14, fetchV15, fetchV16, fetchV17, Reader } from '@platformatic/kafka'
import { parseFetchResponse } from '../../src/adapters/kafka/protocol/fetch-v12-v17.ts'
import { decodeRecordBatches } from '../../src/adapters/kafka/protocol/record-batch-decode.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { fixtureBytes, fixtures, kcatRecord } from '../helpers/kafka-fixtures.ts'

/**
 * Fetch responses v12–v17 captured from Kafka 4.1, for a topic whose partition i kcat
 * (librdkafka) wrote with compression i: none, gzip, snappy, lz4, zstd. Our parser and decoder
 * must read each the way kcat wrote it, and as the client library reads it.
 */
const LIBRARY = { 12: fetchV12, 13: fetchV13, 14: fetchV14, 15: fetchV15, 16: fetchV16, 17: fetchV17 }

for (const [v, library] of Object.entries(LIBRARY)) {
  const version = Number(v)
  test(`fetch v${version}: every partition, every codec kcat writes, decoded as kcat wrote it`, () => {
    const bytes = fixtureBytes(`fetch-v${version}`)
    const parts = parseFetchResponse(0, 1, version, Reader.from(bytes))
    assert.equal(parts.length, 5)
    const topic = version >= 13 ? fixtures.topicId.replaceAll('-', '') : fixtures.codecTopic
    for (const part of parts) {
      assert.equal(part.topic, topic)
      assert.equal(part.errorCode, 0)
      assert.equal(part.end, 5, 'five records in each partition')
      assert.equal(part.aborted, null)
      const { codec, lines } = fixtures.kcat[part.partition]!
      // The batch's compression bits: kcat did compress with the codec named.
      const bits = part.records!.readInt16BE(21) & 7
      assert.equal(bits, ['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(codec), codec)
      const out: LogRecord[] = []
      const decoded = decodeRecordBatches(part.records!, 'codecs', part.partition, 0, null, out)
      assert.deepEqual(decoded, { nextOffset: 5, count: 5 }, codec)
      assert.deepEqual(
        out.map(r => ({ key: r.key?.toString() ?? null, value: r.value!.toString(), offset: r.offset })),
        lines.map((line, offset) => ({ ...kcatRecord(line), offset })),
        codec
      )
      for (const r of out) assert.deepEqual(r.headers, { via: 'kcat' })
    }
  })

  test(`fetch v${version}: the same records and timestamps as the client library reads (zstd on this Node too)`, () => {
    const bytes = fixtureBytes(`fetch-v${version}`)
    const ours = parseFetchResponse(0, 1, version, Reader.from(bytes))
    const theirs = library.parseResponse(0, 1, version, Reader.from(bytes))
    const partitions = theirs.responses[0]!.partitions
    for (const part of ours) {
      const out: LogRecord[] = []
      decodeRecordBatches(part.records!, 'codecs', part.partition, 0, null, out)
      const reference = partitions.find(p => p.partitionIndex === part.partition)!
      assert.equal(Number(reference.highWatermark), part.end)
      const batch = reference.records![0]!
      assert.deepEqual(
        out.map(r => [r.offset, r.timestamp, r.key?.toString('hex') ?? null, r.value!.toString('hex')]),
        batch.records.map(r => [
          Number(batch.firstOffset) + r.offsetDelta,
          Number(batch.firstTimestamp + r.timestampDelta),
          r.key?.length ? r.key.toString('hex') : null,
          r.value!.toString('hex')
        ])
      )
    }
  })
}

test('a top-level fetch error code throws with the error name from the protocol table', () => {
  const b = Buffer.alloc(4 + 2 + 4 + 1 + 1)
  b.writeInt16BE(59, 4) // UNKNOWN_PRODUCER_ID, as good as any
  assert.throws(() => parseFetchResponse(0, 1, 17, Reader.from(b)), /UNKNOWN_PRODUCER_ID \(59\)/)
})
