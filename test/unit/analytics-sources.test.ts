import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { MemoryDocumentStore } from '../../src/adapters/memory/document-store.ts'
import { SkipCounter, type Row } from '../../src/apps/analytics/row.ts'
import { ndjsonRows, storeRows, TRANSACTIONS } from '../../src/apps/analytics/sources.ts'
import { event, FIXTURE } from '../helpers/analytics-fixture.ts'

async function collect(it: AsyncIterable<Row[]>): Promise<{ rows: Row[]; batches: number }> {
  const rows: Row[] = []
  let batches = 0
  for await (const b of it) {
    batches++
    rows.push(...b)
  }
  return { rows, batches }
}

const line = (v: unknown): string => JSON.stringify(v)

test('NDJSON: valid lines become rows; bad lines are skipped and counted by reason', async () => {
  const good = event({ transaction_id: 'g1', timestamp: '2026-01-05T10:00:00Z', amount: 123_456 })
  const badAmount = { ...event({ transaction_id: 'b1', timestamp: '2026-01-05T10:00:00Z' }), total_amount: 1 }
  const badDevice = event({
    transaction_id: 'b2',
    timestamp: '2026-01-05T10:00:00Z',
    payment_method: 'mobile',
    device_info: { os: 'Windows' }
  })
  const { customer_id: _c, ...noCustomer } = event({
    transaction_id: 'b3',
    timestamp: '2026-01-05T10:00:00Z'
  })
  // epoch seconds are a valid timestamp; a time far from "now" is fine for history
  const epoch = event({ transaction_id: 'g2', timestamp: 1_767_607_200 as unknown as string })
  const text =
    [
      line(good),
      '',
      '{"transaction_id": "x", ',
      line(badAmount),
      line(badDevice),
      line(noCustomer),
      '42',
      line(epoch)
    ].join('\r\n') + '\r\n\n' // CRLF endings and trailing blank lines
  const skips = new SkipCounter()
  const { rows, batches } = await collect(ndjsonRows(Readable.from([Buffer.from(text)]), skips, 2))
  assert.deepEqual(
    rows.map(r => [r.id, r.amount, new Date(r.timeMs).toISOString()]),
    [
      ['g1', 123_456, '2026-01-05T10:00:00.000Z'],
      ['g2', 100_000, '2026-01-05T10:00:00.000Z']
    ]
  )
  assert.ok(batches >= 3, 'read in batches of 2 lines')
  assert.deepEqual(skips.toJSON(), {
    total: 5,
    by_reason: { ERR_AMOUNT: 1, ERR_DEVICE: 1, ERR_SCHEMA: 1, not_a_transaction: 1, not_json: 1 }
  })
})

test('NDJSON: detect output lines, invalid UTF-8 and a last line without newline', async () => {
  const decided = { ...FIXTURE[1]!, risk_score: 90, rules_fired: ['velocity'] }
  const lines = [
    line({ topic: 'darooghe.transactions.fraud', key: 'cust_1', value: decided }),
    line({
      topic: 'darooghe.fraud_alerts',
      key: 'cust_1',
      value: { alert_id: 'alert-a2', transaction_id: 'a2' }
    }),
    line({ topic: 'darooghe.error_logs', key: null, value: { error_codes: ['ERR_TIME'] } })
  ]
  const bytes = Buffer.concat([
    Buffer.from(lines.join('\n') + '\n'),
    Buffer.from([0xff, 0xfe, 0x7b, 0x0a]),
    Buffer.from(line(FIXTURE[0])) // no final newline
  ])
  // cut mid-line: a line spanning two chunks must still be read whole
  const chunks = [bytes.subarray(0, 37), bytes.subarray(37)]
  const skips = new SkipCounter()
  const { rows } = await collect(ndjsonRows(Readable.from(chunks), skips))
  assert.deepEqual(
    rows.map(r => [r.id, r.decision]),
    [
      ['a2', 'fraud'],
      ['a1', 'approved']
    ]
  )
  assert.deepEqual(skips.toJSON(), { total: 3, by_reason: { not_a_transaction: 2, not_json: 1 } })
})

test('store source: the transactions collection, bounded by event_time [from, to)', async () => {
  const store = new MemoryDocumentStore()
  await store.upsertMany(
    TRANSACTIONS,
    FIXTURE.map(e => ({
      ...e,
      _id: e.transaction_id,
      event_time: new Date(e.timestamp),
      day: String(e.timestamp).slice(0, 10)
    }))
  )
  await store.upsertMany(TRANSACTIONS, [{ _id: 'broken', event_time: new Date('2026-01-06T00:00:00Z') }])
  const skips = new SkipCounter()
  const all = await collect(storeRows(store, skips))
  assert.equal(all.rows.length, 7)
  assert.equal(skips.total, 1)
  const bounded = await collect(
    storeRows(store, new SkipCounter(), {
      from: new Date('2026-01-06T00:00:00Z'),
      to: new Date('2026-01-07T20:00:00Z')
    })
  )
  // a3 (06th 14:00) and a4 (07th 09:05); a5 at 20:00 is excluded by the open bound
  assert.deepEqual(bounded.rows.map(r => r.id).sort(), ['a3', 'a4'])
})
