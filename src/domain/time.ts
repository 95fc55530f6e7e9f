import type { ByteWriter } from '../bytes/index.ts'

/**
 * Timestamps arrive as ISO-8601 strings, or as epoch seconds or milliseconds (numbers or
 * digit strings). Values below 1e11 are seconds: 1e11 s is the year 5138, while 1e11 ms is 1973,
 * so the two ranges never overlap for real payment times.
 */
const SECONDS_LIMIT = 1e11

/** Parses an event timestamp to epoch milliseconds, or NaN when it cannot be read. */
export function parseTimestamp(value: unknown): number {
  if (typeof value === 'number') return fromEpoch(value)
  if (typeof value !== 'string' || value.length === 0) return Number.NaN
  const first = value.charCodeAt(0)
  if (value.length <= 16 && first >= 48 && first <= 57 && /^\d+(\.\d+)?$/.test(value)) {
    return fromEpoch(Number(value))
  }
  // ISO-8601 needs a date part; Date.parse alone also accepts loose forms like "1 May".
  if (value.length < 10 || value.charCodeAt(4) !== 45 /* - */) return Number.NaN
  // Date.parse rolls impossible dates and times over (2026-02-30 is March 2, T24:00 the next
  // day): a payment stamped with one is unparsable, not silently moved.
  if (!realCalendar(value)) return Number.NaN
  return Date.parse(value)
}

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/

/** Whether the date (and time of day, if any) written at the start of `iso` exists. */
function realCalendar(iso: string): boolean {
  const m = ISO_PARTS.exec(iso)
  if (m === null) return true // not the extended form: Date.parse decides
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  if (month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
  if (day > days) return false
  if (m[4] === undefined) return true
  return Number(m[4]) <= 23 && Number(m[5]) <= 59 && (m[6] === undefined || Number(m[6]) <= 59)
}

/** The largest time a Date holds (±100,000,000 days from the epoch). */
export const MAX_DATE_MS = 8.64e15

function fromEpoch(n: number): number {
  if (!Number.isFinite(n) || n < 0) return Number.NaN
  const ms = n < SECONDS_LIMIT ? Math.round(n * 1000) : Math.round(n)
  // Beyond what a Date holds, no time can be written for it: not a time.
  return ms > MAX_DATE_MS ? Number.NaN : ms
}

/**
 * ISO-8601 of a time that came from outside (a Kafka record timestamp): '' when it is not a
 * time a Date can hold, where toISOString would throw.
 */
export function isoOrEmpty(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : ''
}

/** ISO-8601 UTC with milliseconds, the wire format of generated events. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString()
}

/** Two decimal digits of 0..99. */
function two(w: ByteWriter, n: number): void {
  const tens = Math.floor(n / 10)
  w.u8(0x30 + tens)
  w.u8(0x30 + n - tens * 10)
}

const DAY_MS = 86_400_000
/** 0000-01-01 and 9999-12-31T23:59:59.999Z: toISOString writes 4-digit years in between. */
const ISO_MIN_MS = -62_167_219_200_000
const ISO_MAX_MS = 253_402_300_799_999
const DIGITS2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))

/**
 * `new Date(ms).toISOString()` without a Date per call: the date part is formatted once per
 * day (kept on the instance), the time of day from digit tables. Same text for every input.
 */
export class IsoFormatter {
  #day = Number.NaN
  #prefix = ''
  #prefixBytes: Uint8Array = new Uint8Array(0)

  /** `format(ms)` written as bytes, without building the string. */
  writeInto(ms: number, w: ByteWriter): void {
    if (!this.#split(ms)) return w.text(new Date(ms).toISOString())
    const t = this.#time
    w.put(this.#prefixBytes)
    two(w, t[0]!)
    w.u8(0x3a)
    two(w, t[1]!)
    w.u8(0x3a)
    two(w, t[2]!)
    w.u8(0x2e)
    w.u8(0x30 + Math.floor(t[3]! / 100))
    two(w, t[3]! % 100)
    w.u8(0x5a)
  }

  format(ms: number): string {
    if (!this.#split(ms)) return new Date(ms).toISOString()
    const t = this.#time
    return `${this.#prefix}${DIGITS2[t[0]!]}:${DIGITS2[t[1]!]}:${DIGITS2[t[2]!]}.${DIGITS3[t[3]!]}Z`
  }

  /** Hours, minutes, seconds and milliseconds of the last `#split`. */
  readonly #time = new Int32Array(4)

  /**
   * The date prefix of `ms` (kept while the day is the same) and its time of day into `#time`;
   * false outside the range toISOString writes with a 4-digit year.
   */
  #split(ms: number): boolean {
    if (!Number.isInteger(ms) || ms < ISO_MIN_MS || ms > ISO_MAX_MS) return false
    const day = Math.floor(ms / DAY_MS)
    if (day !== this.#day) {
      this.#day = day
      this.#prefix = new Date(day * DAY_MS).toISOString().slice(0, 11)
      this.#prefixBytes = Buffer.from(this.#prefix, 'latin1')
    }
    let r = ms - day * DAY_MS
    const t = this.#time
    t[0] = Math.floor(r / 3_600_000)
    r -= t[0] * 3_600_000
    t[1] = Math.floor(r / 60_000)
    r -= t[1] * 60_000
    t[2] = Math.floor(r / 1000)
    t[3] = r - t[2] * 1000
    return true
  }
}
