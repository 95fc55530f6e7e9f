import { haversineKm } from '../geo.ts'

/**
 * Per-customer features the rules read (SPEC 5.2), held hot in memory by the processor and
 * persisted in the state store once per batch. Pure data plus pure update functions.
 *
 * Ordering: `recent` is kept in EVENT-time order, so windows and "the previous transaction"
 * are right for out-of-order events, late ones included (one older than the retention horizon
 * is dropped at once). The running `count`/`sum` (the average) and the known locations and
 * merchants are all-time aggregates updated in ARRIVAL order: an out-of-order event sees the
 * average of everything processed before it, not a strict event-time average.
 */
export class RecentTxn {
  constructor(
    readonly t: number,
    readonly amount: number,
    readonly lat: number,
    readonly lng: number,
    /** `transactionKey` of the transaction id: what redelivered duplicates are found by. */
    readonly id: number
  ) {}
}

/** Doubles per transaction in RecentTxns: t, amount, lat, lng, key. */
const STRIDE = 5

/**
 * A customer's retained transactions, in event-time order, as one array of doubles: the five
 * fields of each, one transaction after the other. V8 stores such an array unboxed and
 * contiguous, so the window scans and the duplicate check read consecutive memory, and a new
 * transaction is five stores, not an object (with four boxed numbers) that every minor
 * collection would promote: with a 100,000-customer state, chasing those objects was the
 * costliest part of the duplicate check.
 */
export class RecentTxns {
  readonly #d: number[] = []

  get length(): number {
    return this.#d.length / STRIDE
  }

  t(i: number): number {
    return this.#d[i * STRIDE]!
  }

  amount(i: number): number {
    return this.#d[i * STRIDE + 1]!
  }

  lat(i: number): number {
    return this.#d[i * STRIDE + 2]!
  }

  lng(i: number): number {
    return this.#d[i * STRIDE + 3]!
  }

  /** The transaction's `transactionKey`. */
  id(i: number): number {
    return this.#d[i * STRIDE + 4]!
  }

  /** The i-th transaction as an object (tests, tools; the hot path reads the fields). */
  at(i: number): RecentTxn {
    return new RecentTxn(this.t(i), this.amount(i), this.lat(i), this.lng(i), this.id(i))
  }

  toArray(): RecentTxn[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i))
  }

  /** Inserts `x` as the `pos`-th transaction (`pos` = length appends). */
  insert(pos: number, x: RecentTxn): void {
    const d = this.#d
    if (pos * STRIDE === d.length) d.push(x.t, x.amount, x.lat, x.lng, x.id)
    else d.splice(pos * STRIDE, 0, x.t, x.amount, x.lat, x.lng, x.id)
  }

  /** Drops the `n` oldest transactions. */
  dropFirst(n: number): void {
    const d = this.#d
    d.copyWithin(0, n * STRIDE)
    d.length -= n * STRIDE
  }

  /**
   * How many transactions before the `pos`-th, counting back from it, have a time of at least
   * `from` (windows). The loops over the doubles stay inside the class: a caller reading them
   * one by one through `t(i)` boxed each into a heap number whenever the call was not inlined.
   */
  countBack(pos: number, from: number): number {
    const d = this.#d
    let n = 0
    for (let i = (pos - 1) * STRIDE; i >= 0 && d[i]! >= from; i -= STRIDE) n++
    return n
  }

  /** Index at which a transaction at `t` enters: after every one with a time <= t. */
  indexAfter(t: number): number {
    const d = this.#d
    let hi = d.length / STRIDE
    // Most events arrive in order: check the end before the binary search.
    if (hi === 0 || d[(hi - 1) * STRIDE]! <= t) return hi
    let lo = 0
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (d[mid * STRIDE]! <= t) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Whether a transaction with this key is retained. */
  has(id: number): boolean {
    const d = this.#d
    for (let i = d.length - 1; i > 0; i -= STRIDE) if (d[i] === id) return true
    return false
  }
}

/**
 * A 53-bit hash of a transaction id: a recent transaction keeps this number (8 bytes in the
 * state) instead of the id (up to 256 characters; 36 for a UUID), which made up a third of the
 * customer state's bytes. Two 32-bit multiply-rotate lanes over the UTF-16 units, each
 * finished with an avalanche and the second mixed with the first. Two different ids of one
 * customer's retained transactions share a key with a probability of about 2^-53 per pair:
 * at a billion events a day with ten retained transactions each, once in a few thousand years
 * one would be taken for a duplicate.
 */
export function transactionKey(id: string): number {
  let a = 0x9e3779b9 ^ id.length
  let b = 0x85ebca6b
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i)
    a = Math.imul(a ^ c, 0xcc9e2d51)
    a = (a << 13) | (a >>> 19)
    b = Math.imul(b ^ c, 0x1b873593)
    b = (b << 15) | (b >>> 17)
  }
  a ^= a >>> 16
  a = Math.imul(a, 0x85ebca6b)
  a ^= a >>> 13
  a = Math.imul(a, 0xc2b2ae35)
  a ^= a >>> 16
  b ^= a
  b ^= b >>> 15
  b = Math.imul(b, 0x2c1b3c6d)
  b ^= b >>> 12
  b = Math.imul(b, 0x297a2d39)
  b ^= b >>> 15
  return (b >>> 0) * 2 ** 21 + (a >>> 11)
}

/** A place the customer paid from. */
export class KnownLocation {
  constructor(
    readonly lat: number,
    readonly lng: number
  ) {}
}

export class CustomerState {
  /** Transactions within the retention horizon, sorted by event time (ties: arrival order). */
  recent = new RecentTxns()
  /** Running count and sum of amounts of all scored transactions. */
  count = 0
  sum = 0
  /** Latest transaction in event time (NaN before the first). */
  lastT = Number.NaN
  lastLat = Number.NaN
  lastLng = Number.NaN
  /** Home: where the customer first paid from (NaN before the first transaction). */
  homeLat = Number.NaN
  homeLng = Number.NaN
  /** Distinct places (merged within LOCATION_MERGE_KM); bounded; least recently seen first. */
  locations: KnownLocation[] = []
  /** Bounded; least recently seen first. */
  merchants: string[] = []
  /** Seeded feature-store profile (`avg_spend`), not persisted with the customer. */
  avgSpend: number | null = null
}

/** Locations closer than this are one place: bounds churn of the known-locations list. */
export const LOCATION_MERGE_KM = 0.1

export interface StateLimits {
  /** How far behind the customer's latest event time `recent` keeps transactions, ms. */
  readonly retentionMs: number
  readonly maxRecent: number
  readonly maxLocations: number
  readonly maxMerchants: number
}

/** Index at which a transaction at `t` enters `recent`: after every entry with time <= t. */
export function insertionIndex(recent: RecentTxns, t: number): number {
  return recent.indexAfter(t)
}

/** Whether a transaction (its `transactionKey`) is among the retained recent ones (redelivered duplicates). */
export function hasRecent(state: CustomerState, id: number): boolean {
  return state.recent.has(id)
}

/** Folds one scored transaction into the state. `pos` is its `insertionIndex`. */
export function applyTransaction(
  state: CustomerState,
  txn: RecentTxn,
  pos: number,
  merchantId: string,
  limits: StateLimits
): void {
  const recent = state.recent
  recent.insert(pos, txn)
  const n = recent.length
  const horizon = recent.t(n - 1) - limits.retentionMs
  let drop = 0
  while (drop < n && recent.t(drop) < horizon) drop++
  if (n - drop > limits.maxRecent) drop = n - limits.maxRecent
  if (drop > 0) recent.dropFirst(drop)

  state.count += 1
  state.sum += txn.amount
  if (state.count === 1) {
    state.homeLat = txn.lat
    state.homeLng = txn.lng
  }
  if (!(txn.t < state.lastT)) {
    state.lastT = txn.t
    state.lastLat = txn.lat
    state.lastLng = txn.lng
  }
  rememberLocation(state.locations, txn, limits.maxLocations)
  rememberMerchant(state.merchants, merchantId, limits.maxMerchants)
}

/** 0.1 km is less than 0.001 degree of latitude (111 m): a cheap exact reject before haversine. */
const MERGE_LAT_DEG = 0.001

function rememberLocation(locations: KnownLocation[], txn: RecentTxn, max: number): void {
  for (let i = locations.length - 1; i >= 0; i--) {
    const loc = locations[i]!
    if (Math.abs(loc.lat - txn.lat) > MERGE_LAT_DEG) continue
    if (haversineKm(loc.lat, loc.lng, txn.lat, txn.lng) <= LOCATION_MERGE_KM) {
      moveToEnd(locations, i)
      return
    }
  }
  locations.push(new KnownLocation(txn.lat, txn.lng))
  if (locations.length > max) dropFirst(locations, locations.length - max)
}

function rememberMerchant(merchants: string[], id: string, max: number): void {
  const i = merchants.lastIndexOf(id)
  if (i >= 0) {
    moveToEnd(merchants, i)
    return
  }
  merchants.push(id)
  if (merchants.length > max) dropFirst(merchants, merchants.length - max)
}

// In-place list edits: splice() allocates an array of the removed items on every call.
function moveToEnd<T>(a: T[], i: number): void {
  const x = a[i]!
  for (let j = i; j < a.length - 1; j++) a[j] = a[j + 1]!
  a[a.length - 1] = x
}

function dropFirst<T>(a: T[], n: number): void {
  a.copyWithin(0, n)
  a.length -= n
}

/** Distance in km from (lat, lng) to the nearest known location, or Infinity when none is known. */
export function nearestKnownKm(state: CustomerState, lat: number, lng: number): number {
  let best = Number.POSITIVE_INFINITY
  for (const loc of state.locations) {
    const d = haversineKm(loc.lat, loc.lng, lat, lng)
    if (d < best) best = d
  }
  return best
}

/** Per-merchant history (SPEC 5.2, merchant profile): decisions and how many were fraud. */
export class MerchantState {
  count = 0
  fraud = 0
}
