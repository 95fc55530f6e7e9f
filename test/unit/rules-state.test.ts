import assert from 'node:assert/strict'
import { test } from 'node:test'
import { northOf } from '../../src/domain/geo.ts'
import {
  applyTransaction,
  CustomerState,
  hasRecent,
  insertionIndex,
  RecentTxn,
  transactionKey
} from '../../src/domain/rules/customer-state.ts'
import {
  decodeCustomer,
  decodeMerchant,
  decodeProfile,
  encodeCustomer,
  encodeMerchant,
  StateFormatError
} from '../../src/domain/rules/state-codec.ts'
import { MerchantState } from '../../src/domain/rules/customer-state.ts'
import { TEHRAN, T0 } from '../topology/fixtures.ts'
import { ByteSlab } from '../../src/bytes/index.ts'

const LIMITS = { retentionMs: 150_000, maxRecent: 4, maxLocations: 3, maxMerchants: 2 }

function add(
  s: CustomerState,
  t: number,
  opts: { amount?: number; km?: number; merchant?: string; id?: string } = {}
): void {
  const p = northOf(TEHRAN.lat, TEHRAN.lng, opts.km ?? 0)
  applyTransaction(
    s,
    new RecentTxn(t, opts.amount ?? 10, p.lat, p.lng, transactionKey(opts.id ?? `t${t}`)),
    insertionIndex(s.recent, t),
    opts.merchant ?? 'm',
    LIMITS
  )
}

test('recent stays sorted by event time, drops what is older than the retention horizon, and is capped', () => {
  const s = new CustomerState()
  add(s, T0 + 50_000)
  add(s, T0 + 10_000)
  add(s, T0 + 30_000)
  assert.deepEqual(
    s.recent.toArray().map(r => r.t - T0),
    [10_000, 30_000, 50_000]
  )
  add(s, T0 + 170_000) // horizon 20 000: drops +10 000
  assert.deepEqual(
    s.recent.toArray().map(r => r.t - T0),
    [30_000, 50_000, 170_000]
  )
  add(s, T0 + 171_000)
  add(s, T0 + 172_000) // cap 4
  assert.deepEqual(
    s.recent.toArray().map(r => r.t - T0),
    [50_000, 170_000, 171_000, 172_000]
  )
  assert.equal(s.count, 6)
  assert.equal(s.sum, 60)
  assert.equal(s.lastT, T0 + 172_000)
  assert.equal(hasRecent(s, transactionKey(`t${T0 + 171_000}`)), true)
  assert.equal(hasRecent(s, transactionKey(`t${T0 + 10_000}`)), false)
})

test('a late transaction is inserted in event-time order; one older than the retention horizon is counted, not retained', () => {
  const s = new CustomerState()
  add(s, T0 + 200_000)
  add(s, T0 + 210_000)
  add(s, T0 + 60_000) // 150 000 behind the latest: at the horizon, kept, first
  add(s, T0 + 205_000) // between the two
  assert.deepEqual(
    s.recent.toArray().map(r => r.t - T0),
    [60_000, 200_000, 205_000, 210_000]
  )
  const s2 = new CustomerState()
  add(s2, T0 + 200_000)
  add(s2, T0 + 210_000)
  add(s2, T0 + 59_999, { amount: 5 }) // 1 ms beyond the horizon
  assert.deepEqual(
    s2.recent.toArray().map(r => r.t - T0),
    [200_000, 210_000]
  )
  assert.equal(s2.count, 3)
  assert.equal(s2.sum, 25)
  assert.equal(s2.lastT, T0 + 210_000)
  assert.equal(hasRecent(s2, transactionKey(`t${T0 + 59_999}`)), false)
})

test('last location follows event time; home is the first; known places are merged, bounded, most recent last', () => {
  const s = new CustomerState()
  add(s, T0 + 10_000, { km: 0 })
  add(s, T0 + 5_000, { km: 20 }) // earlier in event time: not the last location
  assert.equal(s.lastT, T0 + 10_000)
  assert.equal(s.lastLat, TEHRAN.lat)
  assert.equal(s.homeLat, TEHRAN.lat)
  add(s, T0 + 11_000, { km: 0.05 }) // within 0.1 km of Tehran: same place, moved to the end
  assert.equal(s.locations.length, 2)
  assert.equal(s.locations[1]!.lat, TEHRAN.lat)
  add(s, T0 + 12_000, { km: 40 })
  add(s, T0 + 13_000, { km: 60 }) // max 3: the 20 km place goes
  assert.equal(s.locations.length, 3)
  assert.deepEqual(
    s.locations.map(l => Math.round((l.lat - TEHRAN.lat) * 111.2)),
    [0, 40, 60].map(k => Math.round(k * 1.0))
  )
})

test('known merchants are bounded, most recent last', () => {
  const s = new CustomerState()
  for (const m of ['a', 'b', 'a', 'c']) add(s, T0, { merchant: m, id: m + Math.random() })
  assert.deepEqual(s.merchants, ['a', 'c'])
})

test('customer state round-trips exactly through its encoding', () => {
  const s = new CustomerState()
  add(s, T0, { amount: 123.45, km: 3.3 })
  add(s, T0 + 1, { amount: 7, km: 77.7, merchant: 'x', id: 'id "quoted" \\ ü' })
  const back = decodeCustomer(encodeCustomer(s))
  back.avgSpend = s.avgSpend
  assert.deepEqual(back, s)
  assert.ok(back.recent.amount(0) === 123.45 && back.recent.id(1) === transactionKey('id "quoted" \\ ü'))
  assert.deepEqual(encodeCustomer(back), encodeCustomer(s))
  const empty = decodeCustomer(null)
  assert.equal(empty.count, 0)
  assert.ok(Number.isNaN(decodeCustomer(encodeCustomer(empty)).lastT))
})

function s0(): CustomerState {
  const s = new CustomerState()
  add(s, T0, { amount: 10, merchant: 'm1' })
  return s
}

test('merchant and profile encodings; foreign formats are rejected', () => {
  const m = new MerchantState()
  m.count = 9
  m.fraud = 2
  assert.deepEqual(decodeMerchant(encodeMerchant(m)), m)
  assert.equal(decodeProfile('{"avg_spend":50.5}'), 50.5)
  assert.equal(decodeProfile(null), null)
  assert.throws(() => decodeProfile('{"avg_spend":0}'), StateFormatError)
  // The text format of version 1, truncated bytes and trailing bytes.
  assert.throws(
    () => decodeCustomer(Buffer.from('[1,0,0,null,null,null,null,null,[],[],[]]')),
    StateFormatError
  )
  const full = encodeCustomer(s0())
  assert.throws(() => decodeCustomer(full.subarray(0, full.length - 3)), StateFormatError)
  assert.throws(() => decodeCustomer(Buffer.concat([full, Buffer.from([0])])), StateFormatError)
  assert.throws(() => decodeMerchant(Buffer.from('[1,"a",0]')), StateFormatError)
  assert.throws(() => decodeMerchant(encodeMerchant(m).subarray(0, 9)), StateFormatError)
  // Merchant ids up to the validated maximum, multi-byte included, fit the room reserved for them.
  const long = new CustomerState()
  add(long, T0, { id: 'é'.repeat(256), merchant: 'ü'.repeat(256) })
  assert.equal(decodeCustomer(encodeCustomer(long)).merchants[0], 'ü'.repeat(256))
  // A longer one (state written before the limit) fails loudly instead of being cut.
  const longer = new CustomerState()
  add(longer, T0, { merchant: 'é'.repeat(2_000) })
  assert.throws(() => encodeCustomer(longer), RangeError)
})

test('transaction keys: 53-bit integers, no collision among 300,000 ids, and stable across releases', () => {
  const seen = new Set<number>()
  for (let i = 0; i < 300_000; i++) {
    const k = transactionKey(
      `${(i * 2654435761) % 2 ** 32}-${i.toString(16).padStart(8, '0')}-4cad-bb1e-0084efb22785`
    )
    assert.ok(Number.isSafeInteger(k) && k >= 0)
    seen.add(k)
  }
  assert.equal(seen.size, 300_000)
  assert.notEqual(transactionKey('tx-1'), transactionKey('tx-2'))
  assert.notEqual(transactionKey('ab'), transactionKey('ba'))
  // Keys live in the durable state: a changed function would stop finding stored duplicates.
  assert.equal(transactionKey('c47f7e9d-a4c4-4cad-bb1e-0084efb22785'), 1044203056002695)
  assert.equal(transactionKey('tx-1'), 2506535441435769)
})

test('a version-2 customer record (transaction ids in full) reads as version 3 (their keys)', () => {
  const s = new CustomerState()
  add(s, T0, { amount: 12.5, id: 'tx-a', merchant: 'm1' })
  add(s, T0 + 60_000, { amount: 99, km: 40, id: 'tx-b', merchant: 'm2' })
  const slab = new ByteSlab(0)
  const w = slab.begin(1_000)
  w.u8(2)
  w.u32(s.count)
  for (const v of [s.sum, s.lastT, s.lastLat, s.lastLng, s.homeLat, s.homeLng]) w.f64(v)
  w.u16(s.recent.length)
  for (const [x, id] of s.recent.toArray().map((x, i) => [x, ['tx-a', 'tx-b'][i]!] as const)) {
    for (const v of [x.t, x.amount, x.lat, x.lng]) w.f64(v)
    w.str16(id)
  }
  w.u16(s.locations.length)
  for (const l of s.locations) {
    w.f64(l.lat)
    w.f64(l.lng)
  }
  w.u16(s.merchants.length)
  for (const m of s.merchants) w.str16(m)
  const old = decodeCustomer(slab.end())
  old.avgSpend = s.avgSpend
  assert.deepEqual(old, s)
  assert.equal(hasRecent(old, transactionKey('tx-b')), true)
  assert.deepEqual(encodeCustomer(old), encodeCustomer(s))
})
