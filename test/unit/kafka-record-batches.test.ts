import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRecordsBatch, Reader, readRecordsBatches } from '@platformatic/kafka'
import { decodeRecordBatches } from '../../src/adapters/kafka/protocol/record-batch-decode.ts'
import type { LogRecord } from '../../src/ports/log.ts'

interface Msg {
  key?: Buffer
  value?: Buffer
  headers?: Map<Buffer, Buffer>
  timestamp?: bigint
}

/** One record batch as the Java client (and @platformatic/kafka's producer) writes it. */
function batch(
  baseOffset: number,
  messages: Msg[],
  options: { compression?: 'gzip'; producerId?: bigint; transactional?: boolean; control?: boolean } = {}
): Buffer {
  const w = createRecordsBatch(
    messages.map(m => ({ topic: 't', ...m })) as Parameters<typeof createRecordsBatch>[0],
    {
      compression: options.compression ?? 'none',
      producerId: options.producerId ?? -1n,
      ...(options.transactional ? { transactionalId: 'tx' } : {})
    }
  )
  const bytes = Buffer.from(w.buffer)
  bytes.writeBigInt64BE(BigInt(baseOffset), 0)
  if (options.control) bytes.writeInt16BE(bytes.readInt16BE(21) | 0x20, 21)
  return bytes
}

const text = (s: string): Buffer => Buffer.from(s)
const decode = (
  bytes: Buffer,
  from = 0,
  aborted: { producerId: bigint; firstOffset: number }[] | null = null
) => {
  const out: LogRecord[] = []
  const result = decodeRecordBatches(bytes, 'payments', 3, from, aborted, out)
  return { out, ...result }
}

test('records decode as the client library decodes them: keys, values, headers, offsets, timestamps', () => {
  const t0 = 1_763_800_000_000n
  const bytes = Buffer.concat([
    batch(1000, [
      {
        key: text('c-1'),
        value: text('{"a":1}'),
        timestamp: t0,
        headers: new Map([[text('label'), text('legit')]])
      },
      { value: text('no key'), timestamp: t0 + 5n },
      { key: text('c-2'), value: Buffer.alloc(0), timestamp: t0 - 3n }
    ]),
    batch(1003, [{ key: text('c-3'), value: text('é ü'), timestamp: t0 + 70_000n }])
  ])
  const { out, nextOffset, count } = decode(bytes)
  const library = readRecordsBatches(Reader.from(bytes)).flatMap(b =>
    b.records.map(r => ({
      offset: Number(b.firstOffset) + r.offsetDelta,
      timestamp: Number(b.firstTimestamp + r.timestampDelta),
      key: r.key?.length ? r.key.toString() : null,
      value: r.value!.toString(),
      headers: Object.fromEntries(r.headers.map(([k, v]) => [k!.toString(), v!.toString()]))
    }))
  )
  assert.equal(count, 4)
  assert.equal(nextOffset, 1004)
  assert.deepEqual(
    out.map(r => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: r.key?.toString() ?? null,
      value: r.value!.toString(),
      headers: r.headers
    })),
    library
  )
  assert.deepEqual(
    out.map(r => [r.topic, r.partition]),
    Array.from({ length: 4 }, () => ['payments', 3])
  )
  assert.equal(out[1]!.key, null, 'a record without a key has a null key')
  assert.equal(out[2]!.timestamp, Number(t0) - 3, 'timestamps before the batch base decode (zigzag)')
})

test('records before the fetch offset are left out; the next offset follows the last complete batch', () => {
  const bytes = Buffer.concat([
    batch(10, [{ value: text('a') }, { value: text('b') }, { value: text('c') }]),
    batch(13, [{ value: text('d') }, { value: text('e') }])
  ])
  const { out, nextOffset } = decode(bytes, 12)
  assert.deepEqual(
    out.map(r => [r.offset, r.value!.toString()]),
    [
      [12, 'c'],
      [13, 'd'],
      [14, 'e']
    ]
  )
  assert.equal(nextOffset, 15)
  assert.deepEqual(decode(bytes, 15).out, [])
})

test('a batch cut at the end of the response waits for the next fetch', () => {
  const whole = batch(0, [{ value: text('first') }])
  const second = batch(1, [{ value: text('second, cut by the byte limit') }])
  const { out, nextOffset } = decode(Buffer.concat([whole, second.subarray(0, second.length - 7)]))
  assert.deepEqual(
    out.map(r => r.value!.toString()),
    ['first']
  )
  assert.equal(nextOffset, 1)
  assert.equal(decode(second.subarray(0, 20)).nextOffset, 0, 'not even a whole batch: nothing moves')
})

test('compressed batches (gzip) decode to the same records', () => {
  const messages = Array.from({ length: 50 }, (_, i) => ({
    key: text(`k${i}`),
    value: text(`value ${i} `.repeat(20))
  }))
  const plain = decode(batch(0, messages)).out
  const gzip = decode(batch(0, messages, { compression: 'gzip' })).out
  assert.equal(gzip.length, 50)
  assert.deepEqual(
    gzip.map(r => [r.offset, r.key!.toString(), r.value!.toString()]),
    plain.map(r => [r.offset, r.key!.toString(), r.value!.toString()])
  )
})

test('read_committed: aborted transactions and control batches are skipped, offsets move past them', () => {
  const abortMarker = { key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }
  const commitMarker = { key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }
  const bytes = Buffer.concat([
    batch(0, [{ value: text('plain') }]),
    batch(1, [{ value: text('aborted 1') }, { value: text('aborted 2') }], {
      producerId: 7n,
      transactional: true
    }),
    batch(3, [{ value: text('committed') }], { producerId: 8n, transactional: true }),
    batch(4, [abortMarker], { producerId: 7n, transactional: true, control: true }),
    batch(5, [commitMarker], { producerId: 8n, transactional: true, control: true }),
    batch(6, [{ value: text('next transaction of 7') }], { producerId: 7n, transactional: true })
  ])
  const committed = decode(bytes, 0, [{ producerId: 7n, firstOffset: 1 }])
  assert.deepEqual(
    committed.out.map(r => [r.offset, r.value!.toString()]),
    [
      [0, 'plain'],
      [3, 'committed'],
      [6, 'next transaction of 7']
    ]
  )
  assert.equal(committed.nextOffset, 7)
  // read_uncommitted sees every data record, never the markers.
  assert.deepEqual(
    decode(bytes).out.map(r => r.offset),
    [0, 1, 2, 3, 6]
  )
})

test('our produce encoder writes batches the client library reads back, with a valid CRC-32C', async () => {
  const { encodeRecordBatch } = await import('../../src/adapters/kafka/produce-request.ts')
  const { crc32c } = await import('@platformatic/kafka')
  const records = [
    {
      topic: 't',
      key: 'c-1',
      value: '{"decision":"fraud"}',
      timestamp: 1_763_800_000_123,
      headers: { label: 'fraud' }
    },
    { topic: 't', key: Buffer.from('c-2'), value: Buffer.from('é'), timestamp: 1_763_800_000_100 },
    { topic: 't', key: null, value: 'x'.repeat(300), timestamp: 1_763_800_090_000 }
  ]
  const bytes = encodeRecordBatch(
    records,
    { topic: 't', partition: 0, indexes: [0, 1, 2], baseSequence: 42 },
    { producerId: 9n, producerEpoch: 3 },
    0
  )
  assert.equal(bytes.readUInt32BE(17), crc32c(bytes.subarray(21)), 'CRC-32C over attributes … end')
  const [b] = readRecordsBatches(Reader.from(bytes))
  assert.equal(b!.producerId, 9n)
  assert.equal(b!.producerEpoch, 3)
  assert.equal(b!.firstSequence, 42)
  assert.equal(b!.lastOffsetDelta, 2)
  assert.equal(b!.maxTimestamp, 1_763_800_090_000n)
  assert.deepEqual(
    b!.records.map(r => [r.offsetDelta, Number(b!.firstTimestamp + r.timestampDelta), r.value!.toString()]),
    [
      [0, 1_763_800_000_123, '{"decision":"fraud"}'],
      [1, 1_763_800_000_100, 'é'],
      [2, 1_763_800_090_000, 'x'.repeat(300)]
    ]
  )
  const { out } = decode(bytes)
  assert.deepEqual(
    out.map(r => [r.key?.toString() ?? null, r.headers]),
    [
      ['c-1', { label: 'fraud' }],
      ['c-2', {}],
      [null, {}]
    ]
  )
})

test('a produce request written into the reused scratch has the bytes of a freshly allocated one', async () => {
  const { encodeProduceRequest, RequestScratch } = await import('../../src/adapters/kafka/produce-request.ts')
  const records = [
    { topic: 'a', key: 'c-1', value: Buffer.from('{"x":1}'), timestamp: 1_763_800_000_000 },
    { topic: 'b', key: 'c-2', value: 'é'.repeat(40), timestamp: 1_763_800_000_005, headers: { h: 'v' } },
    { topic: 'a', key: null, value: 'z'.repeat(90_000), timestamp: 1_763_800_000_009 }
  ]
  const batches = [
    { topic: 'a', partition: 0, indexes: [0, 2], baseSequence: 7 },
    { topic: 'b', partition: 3, indexes: [1], baseSequence: -1 }
  ]
  const producer = { producerId: 5n, producerEpoch: 1 }
  const fresh = encodeProduceRequest(records, batches, -1, 30_000, producer, 0).buffer
  const scratch = new RequestScratch()
  // A small request first, so that the scratch has to grow for the large one.
  const small = encodeProduceRequest(records, [batches[1]!], -1, 30_000, producer, 0, scratch).buffer
  assert.deepEqual(small, encodeProduceRequest(records, [batches[1]!], -1, 30_000, producer, 0).buffer)
  const reused = encodeProduceRequest(records, batches, -1, 30_000, producer, 0, scratch).buffer
  assert.deepEqual(reused, fresh)
  const again = encodeProduceRequest(records, [batches[1]!], -1, 30_000, producer, 0, scratch).buffer
  assert.equal(again.buffer, reused.buffer, 'the next request reuses the same memory')
})
