import { CustomerState, KnownLocation, MerchantState, RecentTxn } from './customer-state.ts'

/**
 * Compact, versioned encodings of the keyed state. Written once per dirty key per batch, so
 * they are hand-built strings, and the fragments of immutable parts (a recent transaction, a
 * known location) are formatted once and cached on the object. Numbers round-trip exactly
 * (shortest round-trip form), which keeps a restored processor's decisions identical to those
 * of the one that wrote the state.
 *
 * Customer: [1, count, sum, lastT, lastLat, lastLng, homeLat, homeLng,
 *            [t, amount, lat, lng, id, ...], [lat, lng, ...], [merchant, ...]]   (NaN as null)
 * Merchant: [1, count, fraud]
 */
const VERSION = 1

export class StateFormatError extends Error {}

export function encodeCustomer(s: CustomerState): string {
  let recent = ''
  for (const x of s.recent) {
    const enc = (x.enc ??= `${x.t},${x.amount},${x.lat},${x.lng},${JSON.stringify(x.id)}`)
    recent = recent.length === 0 ? enc : `${recent},${enc}`
  }
  let locations = ''
  for (const x of s.locations) {
    const enc = (x.enc ??= `${x.lat},${x.lng}`)
    locations = locations.length === 0 ? enc : `${locations},${enc}`
  }
  return (
    `[${VERSION},${s.count},${s.sum},${num(s.lastT)},${pair(s, s.lastLat, s.lastLng)},${pair(s, s.homeLat, s.homeLng)}` +
    `,[${recent}],[${locations}],${JSON.stringify(s.merchants)}]`
  )
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null'
}

/**
 * `lat,lng`: the last and home positions are usually those of a known location, whose
 * formatted (and cached) `lat,lng` is reused.
 */
function pair(s: CustomerState, lat: number, lng: number): string {
  const locations = s.locations
  for (let i = locations.length - 1; i >= 0; i--) {
    const x = locations[i]!
    if (x.lat === lat && x.lng === lng && Number.isFinite(lat) && Number.isFinite(lng)) {
      return (x.enc ??= `${x.lat},${x.lng}`)
    }
  }
  return `${num(lat)},${num(lng)}`
}

export function decodeCustomer(raw: string | null): CustomerState {
  const s = new CustomerState()
  if (raw === null) return s
  const a = parseVersioned(raw, 11)
  s.count = finite(a[1])
  s.sum = finite(a[2])
  s.lastT = orNaN(a[3])
  s.lastLat = orNaN(a[4])
  s.lastLng = orNaN(a[5])
  s.homeLat = orNaN(a[6])
  s.homeLng = orNaN(a[7])
  const r = array(a[8], 5)
  const recent: RecentTxn[] = new Array(r.length / 5)
  for (let i = 0, j = 0; i < r.length; i += 5, j++) {
    recent[j] = new RecentTxn(
      finite(r[i]),
      finite(r[i + 1]),
      finite(r[i + 2]),
      finite(r[i + 3]),
      str(r[i + 4])
    )
  }
  s.recent = recent
  const l = array(a[9], 2)
  const locations: KnownLocation[] = new Array(l.length / 2)
  for (let i = 0, j = 0; i < l.length; i += 2, j++)
    locations[j] = new KnownLocation(finite(l[i]), finite(l[i + 1]))
  s.locations = locations
  s.merchants = array(a[10], 1).map(str)
  return s
}

export function encodeMerchant(m: MerchantState): string {
  return `[${VERSION},${m.count},${m.fraud}]`
}

export function decodeMerchant(raw: string | null): MerchantState {
  const m = new MerchantState()
  if (raw === null) return m
  const a = parseVersioned(raw, 3)
  m.count = finite(a[1])
  m.fraud = finite(a[2])
  return m
}

/** A seeded feature-store profile: `{"avg_spend": 50.0}`. Returns the average, or null. */
export function decodeProfile(raw: string | null): number | null {
  if (raw === null) return null
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    throw new StateFormatError('profile is not JSON')
  }
  const avg = (v as { avg_spend?: unknown } | null)?.avg_spend
  if (typeof avg !== 'number' || !Number.isFinite(avg) || avg <= 0) {
    throw new StateFormatError('profile has no positive avg_spend')
  }
  return avg
}

function parseVersioned(raw: string, length: number): unknown[] {
  let a: unknown
  try {
    a = JSON.parse(raw)
  } catch {
    throw new StateFormatError('not JSON')
  }
  if (!Array.isArray(a) || a[0] !== VERSION || a.length !== length) {
    throw new StateFormatError(`not a version-${VERSION} state record`)
  }
  return a
}

function array(v: unknown, stride: number): unknown[] {
  if (!Array.isArray(v) || v.length % stride !== 0) throw new StateFormatError('malformed list')
  return v
}

function finite(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StateFormatError('malformed number')
  return v
}

function orNaN(v: unknown): number {
  return v === null ? Number.NaN : finite(v)
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new StateFormatError('malformed string')
  return v
}
