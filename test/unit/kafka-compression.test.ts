import assert from 'node:assert/strict'
import { test } from 'node:test'
import zlib from 'node:zlib'
import { compressionsAlgorithms, compressionsAlgorithmsByBitmask } from '@platformatic/kafka'
import {
  codecOf,
  codecs,
  compressionCodec,
  zstdImplementation
} from '../../src/adapters/kafka/compression.ts'
import { decodeRecordBatches } from '../../src/adapters/kafka/protocol/record-batch-decode.ts'
import { encodeRecordBatch, NO_PRODUCER } from '../../src/adapters/kafka/protocol/record-batch-encode.ts'
import { type LogRecord, type OutRecord, undecodableBatchOf } from '../../src/ports/log.ts'

const NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const payload = Buffer.from(JSON.stringify({ events: Array.from({ length: 200 }, (_, i) => `tx-${i % 17}`) }))

test('zstd comes from node:zlib where it has it (Node >= 22.15), else from the npm packages', () => {
  const zlibHasZstd = typeof (zlib as unknown as Record<string, unknown>).zstdCompressSync === 'function'
  assert.equal(zstdImplementation, zlibHasZstd ? 'node:zlib' : 'npm')
})

for (const name of NAMES) {
  test(`${name}: compresses and decompresses back, and its bits are Kafka's`, () => {
    const codec = codecs[name]
    assert.equal(codecOf(codec.bitmask), codec)
    const packed = codec.compress(payload)
    if (name !== 'none') assert.ok(packed.length < payload.length / 3, `${name} compresses`)
    assert.deepEqual(codec.decompress(packed), payload)
  })
}

test("the client library's own zstd codec works on this Node (its consumer and producer use it)", () => {
  const zstd = compressionsAlgorithms.zstd
  assert.equal(zstd.available, true)
  const packed = zstd.compressSync(payload)
  assert.deepEqual(Buffer.from(compressionsAlgorithmsByBitmask[4]!.decompressSync(packed)), payload)
})

test('a zstd frame without its content size (as the Java client streams them) decompresses', () => {
  // Magic, a frame header without content size (window descriptor only), one raw last block.
  const body = Buffer.from('streamed by ZstdOutputStream')
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00])
  const blockHeader = Buffer.alloc(3)
  blockHeader.writeUIntLE(1 | (body.length << 3), 0, 3)
  assert.deepEqual(codecs.zstd.decompress(Buffer.concat([header, blockHeader, body])), body)
})

test('compression bits 5 to 7 name no codec; a compression option outside the five is refused', () => {
  for (const bits of [5, 6, 7]) assert.equal(codecOf(bits), undefined)
  assert.equal(compressionCodec(undefined), codecs.none)
  assert.throws(
    () => compressionCodec('brotli' as never),
    /compression 'brotli' is not one of none, gzip, snappy, lz4, zstd/
  )
})

const records: OutRecord[] = Array.from({ length: 20 }, (_, i) => ({
  topic: 't',
  key: `c-${i % 3}`,
  value: `{"n":${i},"pad":"${'z'.repeat(i * 10)}"}`,
  headers: (i % 2 ? { label: 'legit' } : {}) as Record<string, string>,
  timestamp: 1_767_225_600_000 + i
}))
const indexes = records.map((_, i) => i)

function batchAt(baseOffset: number, codec: (typeof NAMES)[number], count = records.length): Buffer {
  const b = encodeRecordBatch(
    records.slice(0, count),
    { topic: 't', partition: 0, indexes: indexes.slice(0, count), baseSequence: -1 },
    NO_PRODUCER,
    0,
    codecs[codec]
  )
  b.writeBigInt64BE(BigInt(baseOffset), 0)
  return b
}

for (const name of NAMES) {
  test(`our ${name} batch: compression bits set, CRC over the compressed bytes, decoded back`, async () => {
    const b = batchAt(100, name)
    assert.equal(b.readInt16BE(21) & 7, codecs[name].bitmask)
    const { crc32c } = await import('@platformatic/kafka')
    assert.equal(b.readUInt32BE(17), crc32c(b.subarray(21)))
    const out: LogRecord[] = []
    assert.deepEqual(decodeRecordBatches(b, 't', 0, 0, null, out), { nextOffset: 120, count: 20 })
    assert.deepEqual(
      out.map(r => [r.offset, r.key!.toString(), r.value!.toString(), r.headers, r.timestamp]),
      records.map((r, i) => [100 + i, r.key, r.value, r.headers, r.timestamp])
    )
  })
}

/** Decodes [good gzip 0–19 | `bad` at 20–39 | good lz4 40–59]: the bad batch becomes one marker. */
function around(bad: Buffer) {
  const out: LogRecord[] = []
  const result = decodeRecordBatches(
    Buffer.concat([batchAt(0, 'gzip'), bad, batchAt(40, 'lz4')]),
    't',
    0,
    0,
    null,
    out
  )
  assert.deepEqual(result, { nextOffset: 60, count: 41 })
  const markers = out.filter(r => undecodableBatchOf(r) !== null)
  assert.equal(markers.length, 1)
  assert.deepEqual(
    out.filter(r => undecodableBatchOf(r) === null).map(r => r.offset),
    [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 40 + i)]
  )
  const marker = markers[0]!
  assert.equal(marker.offset, 39, 'at the batch last offset: a commit after it moves past the batch')
  assert.equal(marker.value, null)
  assert.equal(out.indexOf(marker), 20, 'in its place in the partition order')
  return undecodableBatchOf(marker)!
}

test('undecodable: compressed bytes damaged (the CRC made right again)', () => {
  const bad = batchAt(20, 'zstd')
  for (let i = 61 + 8; i < bad.length; i += 5) bad[i]! ^= 0x5a
  const b = around(bad)
  assert.deepEqual(
    { ...b, cause: typeof b.cause },
    {
      reason: 'decompress_failed',
      topic: 't',
      partition: 0,
      baseOffset: 20,
      lastOffset: 39,
      codec: 'zstd',
      cause: 'string'
    }
  )
  assert.ok(b.cause.length > 0)
})

test('undecodable: compressed with one codec, labelled another', () => {
  const bad = batchAt(20, 'snappy')
  bad.writeInt16BE(codecs.lz4.bitmask, 21)
  const b = around(bad)
  assert.equal(b.reason, 'decompress_failed')
  assert.equal(b.codec, 'lz4')
})

test('undecodable: compression bits that name no codec', () => {
  const bad = batchAt(20, 'gzip')
  bad.writeInt16BE(6, 21)
  const b = around(bad)
  assert.deepEqual([b.reason, b.codec], ['unknown_codec', 'unknown (6)'])
})

test('undecodable: a record count that does not match the records, compressed or not', () => {
  for (const codec of ['none', 'zstd'] as const) {
    const bad = batchAt(20, codec)
    bad.writeInt32BE(21, 57)
    const b = around(bad)
    assert.deepEqual([b.reason, b.codec], ['corrupt_records', codec])
    assert.match(b.cause, /a length or the count is wrong|malformed/)
  }
  // Fewer records than the batch holds: the bytes left over are no record.
  const short = batchAt(20, 'none')
  short.writeInt32BE(19, 57)
  assert.equal(around(short).reason, 'corrupt_records')
})

test('undecodable: a message format other than v2', () => {
  const bad = batchAt(20, 'none')
  bad[16] = 1
  bad.writeBigInt64BE(39n, 0) // v0/v1 entries start with their last offset
  const b = around(bad)
  assert.deepEqual([b.reason, b.baseOffset, b.lastOffset], ['unsupported_format', 39, 39])
})

test('undecodable batches before the fetch position are skipped like any other', () => {
  const bad = batchAt(20, 'zstd')
  for (let i = 70; i < bad.length; i += 5) bad[i]! ^= 0x5a
  const out: LogRecord[] = []
  const r = decodeRecordBatches(Buffer.concat([bad, batchAt(40, 'none')]), 't', 0, 40, null, out)
  assert.deepEqual(r, { nextOffset: 60, count: 20 })
  assert.ok(out.every(x => undecodableBatchOf(x) === null))
})

test('an empty batch (compaction keeps its header) is passed over, whatever its compression bits say', () => {
  for (const codec of NAMES) {
    const empty = Buffer.alloc(61)
    empty.writeBigInt64BE(20n, 0)
    empty.writeInt32BE(61 - 12, 8)
    empty[16] = 2
    empty.writeInt16BE(codecs[codec].bitmask, 21)
    empty.writeInt32BE(19, 23) // last offset delta: the offsets it once held
    const out: LogRecord[] = []
    const bytes = Buffer.concat([batchAt(0, 'none'), empty, batchAt(40, codec)])
    assert.deepEqual(decodeRecordBatches(bytes, 't', 0, 0, null, out), { nextOffset: 60, count: 40 }, codec)
    assert.ok(out.every(r => undecodableBatchOf(r) === null))
  }
})
