import { ByteReader, ByteSlab } from '../../bytes/index.ts'
import { MAX_ID_LENGTH } from '../validate.ts'
import { CustomerState, KnownLocation, MerchantState, RecentTxn, transactionKey } from './customer-state.ts'

/**
 * Compact, versioned binary encodings of the keyed state, written once per dirty key per batch
 * straight into the batch's byte slab: no number formatting, no intermediate strings. Doubles
 * are stored as IEEE 754 (NaN included), so a restored processor decides exactly like the one
 * that wrote the state. Little-endian:
 *
 * Customer: u8 3 | u32 count | f64 sum, lastT, lastLat, lastLng, homeLat, homeLng
 *           | u16 n, n × (f64 t, amount, lat, lng, transaction key)
 *           | u16 n, n × (f64 lat, lng) | u16 n, n × (u16 len, UTF-8 merchant id)
 *           Version 2 (read, never written) held each transaction's id (u16 len, UTF-8)
 *           where version 3 holds its key; reading it computes the key.
 * Merchant: u8 2 | f64 count | f64 fraud
 */
const CUSTOMER_VERSION = 3
const MERCHANT_VERSION = 2

export class StateFormatError extends Error {}

/**
 * Upper bound of a customer's encoded size, without walking its lists: merchant ids are at
 * most MAX_ID_LENGTH UTF-16 units (validation rejects longer ones), 3 UTF-8 bytes each at most.
 */
function customerBound(s: CustomerState): number {
  return 61 + s.locations.length * 16 + s.recent.length * 40 + s.merchants.length * (2 + MAX_ID_LENGTH * 3)
}

export function encodeCustomerInto(s: CustomerState, slab: ByteSlab): Buffer {
  const w = slab.begin(customerBound(s))
  w.u8(CUSTOMER_VERSION)
  w.u32(s.count)
  w.f64(s.sum)
  w.f64(s.lastT)
  w.f64(s.lastLat)
  w.f64(s.lastLng)
  w.f64(s.homeLat)
  w.f64(s.homeLng)
  const recent = s.recent
  w.u16(recent.length)
  for (let i = 0; i < recent.length; i++) {
    w.f64(recent.t(i))
    w.f64(recent.amount(i))
    w.f64(recent.lat(i))
    w.f64(recent.lng(i))
    w.f64(recent.id(i))
  }
  w.u16(s.locations.length)
  for (const x of s.locations) {
    w.f64(x.lat)
    w.f64(x.lng)
  }
  w.u16(s.merchants.length)
  for (const m of s.merchants) w.str16(m)
  return slab.end()
}

export function encodeCustomer(s: CustomerState): Buffer {
  return encodeCustomerInto(s, new ByteSlab(0))
}

export function decodeCustomer(raw: Buffer | null): CustomerState {
  const s = new CustomerState()
  if (raw === null) return s
  return decoding(raw, [2, CUSTOMER_VERSION], (r, version) => {
    s.count = r.u32()
    s.sum = finite(r.f64())
    s.lastT = r.f64()
    s.lastLat = r.f64()
    s.lastLng = r.f64()
    s.homeLat = r.f64()
    s.homeLng = r.f64()
    const n = r.u16()
    for (let i = 0; i < n; i++) {
      const t = finite(r.f64())
      const amount = finite(r.f64())
      const lat = finite(r.f64())
      const lng = finite(r.f64())
      const id = version === 2 ? transactionKey(r.str16()) : finite(r.f64())
      s.recent.insert(i, new RecentTxn(t, amount, lat, lng, id))
    }
    const locations: KnownLocation[] = new Array(r.u16())
    for (let i = 0; i < locations.length; i++)
      locations[i] = new KnownLocation(finite(r.f64()), finite(r.f64()))
    s.locations = locations
    const merchants: string[] = new Array(r.u16())
    for (let i = 0; i < merchants.length; i++) merchants[i] = r.str16()
    s.merchants = merchants
    return s
  })
}

export function encodeMerchantInto(m: MerchantState, slab: ByteSlab): Buffer {
  const w = slab.begin(17)
  w.u8(MERCHANT_VERSION)
  w.f64(m.count)
  w.f64(m.fraud)
  return slab.end()
}

export function encodeMerchant(m: MerchantState): Buffer {
  return encodeMerchantInto(m, new ByteSlab(0))
}

export function decodeMerchant(raw: Buffer | null): MerchantState {
  const m = new MerchantState()
  if (raw === null) return m
  return decoding(raw, [MERCHANT_VERSION], r => {
    m.count = finite(r.f64())
    m.fraud = finite(r.f64())
    return m
  })
}

/** Checks the version byte, runs `read`, and requires it to consume every byte. */
function decoding<T>(
  raw: Buffer,
  versions: readonly number[],
  read: (r: ByteReader, version: number) => T
): T {
  const r = new ByteReader(raw)
  let v: T
  try {
    const version = r.u8()
    if (!versions.includes(version)) {
      throw new StateFormatError(`not a version-${versions.join('/')} state record (version byte ${version})`)
    }
    v = read(r, version)
  } catch (error) {
    if (error instanceof StateFormatError) throw error
    throw new StateFormatError(`truncated state record (${(error as Error).message})`)
  }
  if (!r.done) throw new StateFormatError('state record has trailing bytes')
  return v
}

/** A seeded feature-store profile: `{"avg_spend": 50.0}`. Returns the average, or null. */
export function decodeProfile(raw: Buffer | string | null): number | null {
  if (raw === null) return null
  let v: unknown
  try {
    v = JSON.parse(raw.toString())
  } catch {
    throw new StateFormatError('profile is not JSON')
  }
  const avg = (v as { avg_spend?: unknown } | null)?.avg_spend
  if (typeof avg !== 'number' || !Number.isFinite(avg) || avg <= 0) {
    throw new StateFormatError('profile has no positive avg_spend')
  }
  return avg
}

function finite(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StateFormatError('malformed number')
  return v
}
