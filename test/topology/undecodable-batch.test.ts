import assert from 'node:assert/strict'
import { test } from 'node:test'
import { codecs } from '../../src/adapters/kafka/compression.ts'
import { decodeRecordBatches } from '../../src/adapters/kafka/protocol/record-batch-decode.ts'
import { encodeRecordBatch, NO_PRODUCER } from '../../src/adapters/kafka/protocol/record-batch-encode.ts'
import type { KafkaCompression } from '../../src/adapters/kafka/options.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { on, TopologyDriver } from './driver.ts'
import { makeEvent, T0 } from './fixtures.ts'

/**
 * A partition's bytes as a fetch returns them, with a damaged zstd batch between two good ones,
 * decoded by the consumer's decoder and run through the detector: the damaged batch becomes one
 * ERR_UNDECODABLE_BATCH error record naming it, and every event after it is decided.
 */
const INPUT = 'darooghe.transactions'
const ERRORS = 'darooghe.error_logs'

function batch(baseOffset: number, customers: string[], codec: KafkaCompression): Buffer {
  const records: OutRecord[] = customers.map((c, i) => ({
    topic: INPUT,
    key: c,
    value: JSON.stringify(
      makeEvent({ customer_id: c, t: T0 + baseOffset * 1_000 + i, transaction_id: `tx-${baseOffset + i}` })
    ),
    timestamp: T0 + 60_000
  }))
  const indexes = records.map((_, i) => i)
  const b = encodeRecordBatch(
    records,
    { topic: INPUT, partition: 0, indexes, baseSequence: -1 },
    NO_PRODUCER,
    0,
    codecs[codec]
  )
  b.writeBigInt64BE(BigInt(baseOffset), 0)
  return b
}

test('a batch that cannot be decompressed becomes one error record; the events after it are decided', async () => {
  const customers = (n: number, from: number) => Array.from({ length: n }, (_, i) => `cust_${from + i}`)
  const damaged = batch(4, customers(3, 4), 'zstd')
  for (let i = 61 + 8; i < damaged.length; i += 4) damaged[i]! ^= 0xa5
  const bytes = Buffer.concat([batch(0, customers(4, 0), 'gzip'), damaged, batch(7, customers(5, 7), 'lz4')])
  const records: LogRecord[] = []
  const decoded = decodeRecordBatches(bytes, INPUT, 0, 0, null, records)
  assert.deepEqual(decoded, { nextOffset: 12, count: 10 })

  const outs = await new TopologyDriver().pipe(records)
  const errors = on(outs, ERRORS)
  assert.equal(errors.length, 1)
  const e = errors[0]!.value
  assert.deepEqual(e.error_codes, ['ERR_UNDECODABLE_BATCH'])
  assert.deepEqual(e.source, { topic: INPUT, partition: 0, offset: 6 })
  assert.deepEqual(
    { ...e.undecodable_batch, cause: typeof e.undecodable_batch.cause },
    { reason: 'decompress_failed', base_offset: 4, last_offset: 6, codec: 'zstd', cause: 'string' }
  )
  assert.match(
    e.issues[0].message,
    /record batch at offsets 4-6 of darooghe\.transactions:0 \(compression zstd\) could not be decoded: decompress_failed: /
  )
  assert.equal(e.original_base64, null)
  const decided = outs
    .filter(o => o.topic === 'darooghe.transactions.approved' || o.topic === 'darooghe.transactions.fraud')
    .map(o => o.value.transaction_id)
    .sort()
  assert.deepEqual(decided, ['tx-0', 'tx-1', 'tx-10', 'tx-11', 'tx-2', 'tx-3', 'tx-7', 'tx-8', 'tx-9'])
})
