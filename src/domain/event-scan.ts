import {
  COMMISSION_TYPES,
  CUSTOMER_TYPES,
  DEVICE_OSES,
  FAILURE_REASONS,
  MERCHANT_CATEGORIES,
  PAYMENT_METHODS,
  STATUSES
} from './event.ts'
import { DEFAULT_LIMITS, type RecordLimits } from './limits.ts'
import { MAX_ID_LENGTH, type ValidationOptions } from './validate.ts'

/**
 * The fast path of decoding and validating a JSON payment event: one pass over the bytes that
 * reads the fields processing needs and checks every rule of validateEvent, without building
 * the text, the parsed object or any string but the three ids.
 *
 * It handles a strict subset of JSON (printable ASCII strings without escapes, plain decimal
 * numbers that convert exactly, the 18 known keys once each, no line breaks) and answers null
 * whenever it is not certain; the caller then takes the slow path (JSON.parse +
 * validateEvent), which stays the single source of truth: null never means "invalid".
 */

/** What processing reads of a valid event, decoded straight from its bytes. */
export class ScannedEvent {
  constructor(
    readonly transactionId: string,
    readonly customerId: string,
    readonly merchantId: string,
    readonly amount: number,
    readonly lat: number,
    readonly lng: number,
    readonly eventTimeMs: number
  ) {}
}

const SPACE = 0x20
const TAB = 0x09
const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const LBRACE = 0x7b
const RBRACE = 0x7d
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const LOWER_E = 0x65
const UPPER_E = 0x45
const UPPER_T = 0x54
const UPPER_Z = 0x5a

const ascii = new TextEncoder()
/** The JSON strings of `values`, quotes included: matching one also finds where it ends. */
const quoted = (values: readonly string[]): readonly Uint8Array[] =>
  values.map(v => ascii.encode(JSON.stringify(v)))

/** Bytes a string may hold as they are: printable ASCII but `"` and `\` (so one byte, one UTF-16 unit). */
const PLAIN = new Uint8Array(256)
for (let c = SPACE; c <= 0x7e; c++) PLAIN[c] = c === QUOTE || c === BACKSLASH ? 0 : 1

/** Top-level keys, in the order producers write them; a key's index is its bit in the mask of keys seen. */
const KEYS = [
  'transaction_id',
  'timestamp',
  'customer_id',
  'card_id',
  'merchant_id',
  'merchant_category',
  'payment_method',
  'amount',
  'location',
  'device_info',
  'status',
  'commission_type',
  'commission_amount',
  'vat_amount',
  'total_amount',
  'customer_type',
  'risk_level',
  'failure_reason'
] as const
const TRANSACTION_ID = 0
const TIMESTAMP = 1
const CUSTOMER_ID = 2
const CARD_ID = 3
const MERCHANT_ID = 4
const MERCHANT_CATEGORY = 5
const PAYMENT_METHOD = 6
const AMOUNT = 7
const LOCATION = 8
const DEVICE_INFO = 9
const STATUS = 10
const COMMISSION_TYPE = 11
const COMMISSION_AMOUNT = 12
const VAT_AMOUNT = 13
const TOTAL_AMOUNT = 14
const CUSTOMER_TYPE = 15
const RISK_LEVEL = 16
const FAILURE_REASON = 17
/** `"key":` of each key. */
const KEY_TOKENS = KEYS.map(k => ascii.encode(`${JSON.stringify(k)}:`))
/** validate.ts lets these three be absent; every other key must be there. */
const REQUIRED = ((1 << KEYS.length) - 1) & ~((1 << CARD_ID) | (1 << DEVICE_INFO) | (1 << FAILURE_REASON))

const CATEGORY_TOKENS = quoted(MERCHANT_CATEGORIES)
const METHOD_TOKENS = quoted(PAYMENT_METHODS)
const MOBILE = PAYMENT_METHODS.indexOf('mobile')
const STATUS_TOKENS = quoted(STATUSES)
const COMMISSION_TYPE_TOKENS = quoted(COMMISSION_TYPES)
const CUSTOMER_TYPE_TOKENS = quoted(CUSTOMER_TYPES)
const FAILURE_REASON_TOKENS = quoted(FAILURE_REASONS)
const OS_TOKENS = quoted(DEVICE_OSES)
const NULL = ascii.encode('null')
const OS_KEY = ascii.encode('"os"')
const LAT_KEY = ascii.encode('"lat"')
const LNG_KEY = ascii.encode('"lng"')
const PROTO = ascii.encode('__proto__')

/** Where device_info.os stands: the mobile rule needs OS_KNOWN. */
const OS_ABSENT = 0
const OS_KNOWN = 1
const OS_OTHER = 2

/**
 * Numbers convert exactly when their digits form an integer m ≤ 2^53 and they have at most 22
 * fraction digits: m and 10^k are then exact doubles, so m / 10^k is correctly rounded, which
 * is what JSON.parse returns.
 */
const MAX_MANTISSA = 2 ** 53
/** Below this, one more digit cannot pass MAX_MANTISSA (the exact test is only needed above). */
const MANTISSA_CHECK = Math.floor(MAX_MANTISSA / 10) - 9
const MAX_FRACTION_DIGITS = 22
/** Literals, not 10 ** k: each is the exact double. */
const POW10 = new Float64Array([
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22
])

/** Days of each month of a common year; February of a leap year has one more. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

interface Latin1Slicer {
  latin1Slice(this: Uint8Array, start: number, end: number): string
}
/**
 * Node's decoder behind buf.toString('latin1', s, e), which also takes a plain Uint8Array: one
 * flat string per id. (Building short ids with String.fromCharCode measured no faster, and a
 * concatenation leaves a string per character.)
 */
const latin1Slice: Latin1Slicer['latin1Slice'] =
  (Buffer.prototype as unknown as Partial<Latin1Slicer>).latin1Slice ??
  // Not part of Node's documented API: should a release drop it, the public (slower) route.
  function (this: Uint8Array, start: number, end: number): string {
    return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('latin1', start, end)
  }

const NO_BYTES = new Uint8Array(0)

/**
 * The scan of one record: a cursor over its bytes and the fields read so far. Fields rather
 * than locals so that small methods share them without closures or result objects; one
 * instance serves every call, as a scan is synchronous.
 */
class Scanner {
  private b: Uint8Array = NO_BYTES
  /** Cursor and end of the bytes. */
  private p = 0
  private end = 0
  /** Content of the last string read: b[s0, s1). */
  private s0 = 0
  private s1 = 0
  /**
   * The last number read. Numbers are handed over in a field rather than returned: a double
   * returned from a call that is not inlined is boxed, a double field is written in place.
   */
  private number = 0
  /** Keys seen, one bit per index of KEYS. */
  private seen = 0
  private transactionStart = 0
  private transactionEnd = 0
  private customerStart = 0
  private customerEnd = 0
  private merchantStart = 0
  private merchantEnd = 0
  private method = -1
  private amount = 0
  private vat = 0
  private commission = 0
  private total = 0
  private lat = 0
  private lng = 0
  private eventTimeMs = 0
  private os = OS_ABSENT
  /** The record limits (limits.ts), so that the scanner never accepts what the slow path rejects. */
  private maxStringContent = 0
  private fieldsLeft = 0

  scan(
    bytes: Uint8Array,
    ingestionMs: number,
    options: ValidationOptions,
    limits: RecordLimits
  ): ScannedEvent | null {
    if (bytes.length > limits.maxEventBytes || limits.maxDepth < 2) return null
    this.b = bytes
    this.p = 0
    this.end = bytes.length
    this.maxStringContent = limits.maxStringBytes - 2
    this.fieldsLeft = limits.maxFields
    this.seen = 0
    this.method = -1
    this.os = OS_ABSENT
    const event = this.readEvent() ? this.validated(bytes, ingestionMs, options) : null
    // Not holding on to the record (often a slice of a whole fetch response).
    this.b = NO_BYTES
    return event
  }

  /** The top-level object, each field checked by its own rules as it is read. */
  private readEvent(): boolean {
    if (!this.eat(LBRACE)) return false
    let key = -1
    do {
      key = this.readKey(key + 1)
      if (--this.fieldsLeft < 0 || key < 0 || (this.seen & (1 << key)) !== 0 || !this.readValue(key))
        return false
      this.seen |= 1 << key
    } while (this.eat(COMMA))
    if (!this.eat(RBRACE)) return false
    this.skipSpace()
    return this.p === this.end && (this.seen & REQUIRED) === REQUIRED
  }

  /** The rules that span fields, in validate.ts's own expressions (floating point included). */
  private validated(bytes: Uint8Array, ingestionMs: number, options: ValidationOptions): ScannedEvent | null {
    const { amount, eventTimeMs } = this
    if (
      amount <= 0 ||
      Math.abs(this.total - (amount + this.vat + this.commission)) > options.amountTolerance
    ) {
      return null
    }
    if (eventTimeMs > ingestionMs + options.maxFutureSkewMs || eventTimeMs < ingestionMs - options.maxAgeMs) {
      return null
    }
    if (this.method === MOBILE && this.os !== OS_KNOWN) return null
    return new ScannedEvent(
      latin1Slice.call(bytes, this.transactionStart, this.transactionEnd),
      latin1Slice.call(bytes, this.customerStart, this.customerEnd),
      latin1Slice.call(bytes, this.merchantStart, this.merchantEnd),
      amount,
      this.lat,
      this.lng,
      eventTimeMs
    )
  }

  /**
   * The index of the key at the cursor, its colon consumed, or -1 for an unknown key. Producers
   * write the keys in one order, so `expected` (the one after the previous key) is tried first.
   */
  private readKey(expected: number): number {
    this.skipSpace()
    if (expected < KEYS.length && this.token(KEY_TOKENS[expected] as Uint8Array)) return expected
    for (let k = 0; k < KEYS.length; k++) {
      if (this.token(KEY_TOKENS[k] as Uint8Array)) return k
    }
    // A known key with spaces before its colon.
    if (!this.readString()) return -1
    const n = this.s1 - this.s0 + 2
    for (let k = 0; k < KEYS.length; k++) {
      const t = KEY_TOKENS[k] as Uint8Array
      if (t.length - 1 === n && this.sameAt(this.s0 - 1, t, n)) return this.eat(COLON) ? k : -1
    }
    return -1
  }

  /** Reads the value of a top-level key, checking the field's own rules. */
  private readValue(key: number): boolean {
    switch (key) {
      case TRANSACTION_ID:
        if (!this.readId()) return false
        this.transactionStart = this.s0
        this.transactionEnd = this.s1
        return true
      case CUSTOMER_ID:
        if (!this.readId()) return false
        this.customerStart = this.s0
        this.customerEnd = this.s1
        return true
      case MERCHANT_ID:
        if (!this.readId()) return false
        this.merchantStart = this.s0
        this.merchantEnd = this.s1
        return true
      case CARD_ID:
        return this.literal(NULL) || (this.readString() && this.s1 - this.s0 <= MAX_ID_LENGTH)
      case TIMESTAMP:
        return this.readTime()
      case MERCHANT_CATEGORY:
        return this.choice(CATEGORY_TOKENS) >= 0
      case PAYMENT_METHOD:
        this.method = this.choice(METHOD_TOKENS)
        return this.method >= 0
      case STATUS:
        return this.choice(STATUS_TOKENS) >= 0
      case COMMISSION_TYPE:
        return this.choice(COMMISSION_TYPE_TOKENS) >= 0
      case CUSTOMER_TYPE:
        return this.choice(CUSTOMER_TYPE_TOKENS) >= 0
      case FAILURE_REASON:
        return this.literal(NULL) || this.choice(FAILURE_REASON_TOKENS) >= 0
      case RISK_LEVEL:
        return this.readNumber() && Number.isInteger(this.number) && this.number >= 1 && this.number <= 5
      case AMOUNT:
        if (!this.readNumber()) return false
        this.amount = this.number
        return true
      case VAT_AMOUNT:
        if (!this.readNumber()) return false
        this.vat = this.number
        return true
      case COMMISSION_AMOUNT:
        if (!this.readNumber()) return false
        this.commission = this.number
        return true
      case TOTAL_AMOUNT:
        if (!this.readNumber()) return false
        this.total = this.number
        return true
      case LOCATION:
        return this.readLocation()
      case DEVICE_INFO:
        return this.literal(NULL) || this.readDevice()
      default:
        return false
    }
  }

  /** `{"lat": number, "lng": number}` in either order, in range; no other key. */
  private readLocation(): boolean {
    if (!this.eat(LBRACE)) return false
    let got = 0
    do {
      this.skipSpace()
      const isLat = this.token(LAT_KEY)
      const bit = isLat ? 1 : this.token(LNG_KEY) ? 2 : 0
      if (--this.fieldsLeft < 0 || bit === 0 || (got & bit) !== 0 || !this.eat(COLON)) return false
      got |= bit
      if (!this.readNumber() || Math.abs(this.number) > (isLat ? 90 : 180)) return false
      if (isLat) this.lat = this.number
      else this.lng = this.number
    } while (this.eat(COMMA))
    return got === 3 && this.eat(RBRACE)
  }

  /** An object of string or number values; only `os` matters, for the mobile rule. */
  private readDevice(): boolean {
    if (!this.eat(LBRACE)) return false
    if (this.eat(RBRACE)) return true
    do {
      this.skipSpace()
      const isOs = this.token(OS_KEY)
      // JSON.parse keeps the last of duplicate keys: rather not follow that.
      if (
        --this.fieldsLeft < 0 ||
        (isOs && this.os !== OS_ABSENT) ||
        (!isOs && (!this.readString() || this.isProtoKey())) ||
        !this.eat(COLON)
      )
        return false
      this.skipSpace()
      if (isOs) {
        if (this.choice(OS_TOKENS) >= 0) this.os = OS_KNOWN
        else if (this.readString() || this.readNumber()) this.os = OS_OTHER
        else return false
      } else if (!this.readString() && !this.readNumber()) {
        return false
      }
    } while (this.eat(COMMA))
    return this.eat(RBRACE)
  }

  /** Whether the last string read is `__proto__`, a key the slow path refuses. */
  private isProtoKey(): boolean {
    return this.s1 - this.s0 === PROTO.length && this.sameAt(this.s0, PROTO, PROTO.length)
  }

  private readId(): boolean {
    return this.readString() && this.s1 > this.s0 && this.s1 - this.s0 <= MAX_ID_LENGTH
  }

  /** Skips spaces and tabs; a line break is not handled (null). */
  private skipSpace(): void {
    const b = this.b
    let p = this.p
    while (p < this.end && (b[p] === SPACE || b[p] === TAB)) p++
    this.p = p
  }

  /** Consumes `c` after optional spaces. */
  private eat(c: number): boolean {
    this.skipSpace()
    if (this.p < this.end && this.b[this.p] === c) {
      this.p++
      return true
    }
    return false
  }

  /** Consumes `t` after optional spaces. */
  private literal(t: Uint8Array): boolean {
    this.skipSpace()
    return this.token(t)
  }

  /** Consumes `t` when the bytes at the cursor are exactly its bytes. */
  private token(t: Uint8Array): boolean {
    const n = t.length
    if (this.p + n > this.end || !this.sameAt(this.p, t, n)) return false
    this.p += n
    return true
  }

  /** Whether b[at, at + n) holds the first n bytes of t. */
  private sameAt(at: number, t: Uint8Array, n: number): boolean {
    const b = this.b
    for (let i = 0; i < n; i++) if (b[at + i] !== t[i]) return false
    return true
  }

  /** Index of the token at the cursor (consumed) among `tokens`, or -1. */
  private choice(tokens: readonly Uint8Array[]): number {
    this.skipSpace()
    for (let j = 0; j < tokens.length; j++) if (this.token(tokens[j] as Uint8Array)) return j
    return -1
  }

  /** A string of PLAIN bytes, so its bytes are its characters; its content is left in b[s0, s1). */
  private readString(): boolean {
    this.skipSpace()
    const b = this.b
    const start = this.p
    if (start >= this.end || b[start] !== QUOTE) return false
    let i = start + 1
    while (i < this.end && PLAIN[b[i] as number] === 1) i++
    if (i >= this.end || b[i] !== QUOTE || i - start - 1 > this.maxStringContent) return false
    this.s0 = start + 1
    this.s1 = i
    this.p = i + 1
    return true
  }

  /** The decimal digit at i, or -1. */
  private digitAt(i: number): number {
    if (i >= this.end) return -1
    const d = (this.b[i] as number) - ZERO
    return d >= 0 && d <= 9 ? d : -1
  }

  /**
   * Reads a JSON number `-?(0|[1-9]\d*)(\.\d+)?` that converts exactly (see MAX_MANTISSA) into
   * `number`; false for exponents, more digits and malformed numbers. A byte that cannot
   * follow a number (a digit after a leading 0, a second dot) fails the caller's next token.
   */
  private readNumber(): boolean {
    this.skipSpace()
    let i = this.p
    const negative = i < this.end && this.b[i] === MINUS
    if (negative) i++
    let d = this.digitAt(i++)
    if (d < 0) return false
    let m = d
    if (d > 0) {
      for (d = this.digitAt(i); d >= 0; d = this.digitAt(++i)) {
        if (m >= MANTISSA_CHECK && m * 10 > MAX_MANTISSA - d) return false
        m = m * 10 + d
      }
    }
    let k = 0
    if (i < this.end && this.b[i] === DOT) {
      d = this.digitAt(++i)
      if (d < 0) return false
      for (; d >= 0; d = this.digitAt(++i)) {
        if (k === MAX_FRACTION_DIGITS || (m >= MANTISSA_CHECK && m * 10 > MAX_MANTISSA - d)) return false
        m = m * 10 + d
        k++
      }
    }
    if (i < this.end && (this.b[i] === LOWER_E || this.b[i] === UPPER_E)) return false
    this.p = i
    const v = k === 0 ? m : m / (POW10[k] as number)
    // -0 stays -0, as JSON.parse gives it.
    this.number = negative ? -v : v
    return true
  }

  /** The n-digit decimal number at i, or -1. */
  private digitsAt(i: number, n: number): number {
    let v = 0
    for (let j = i; j < i + n; j++) {
      const d = this.digitAt(j)
      if (d < 0) return -1
      v = v * 10 + d
    }
    return v
  }

  /**
   * Reads into eventTimeMs a string that is exactly `YYYY-MM-DDTHH:MM:SS.sssZ` or
   * `YYYY-MM-DDTHH:MM:SSZ` with every part in range; false for anything else. parseTimestamp hands such a string to Date.parse, which
   * gives Date.UTC of its parts; Date.parse also rolls some out-of-range dates over (Feb 30,
   * 24:00), and those are left to it, as are years below 100 (Date.UTC reads them as 19xx).
   */
  private readTime(): boolean {
    this.skipSpace()
    const b = this.b
    const o = this.p + 1
    if (
      o + 21 > this.end ||
      b[o - 1] !== QUOTE ||
      b[o + 4] !== MINUS ||
      b[o + 7] !== MINUS ||
      b[o + 10] !== UPPER_T ||
      b[o + 13] !== COLON ||
      b[o + 16] !== COLON
    ) {
      return false
    }
    const withMillis = b[o + 19] === DOT
    const z = withMillis ? o + 23 : o + 19
    if (z + 2 > this.end || b[z] !== UPPER_Z || b[z + 1] !== QUOTE) return false
    const year = this.digitsAt(o, 4)
    const month = this.digitsAt(o + 5, 2)
    const day = this.digitsAt(o + 8, 2)
    const hour = this.digitsAt(o + 11, 2)
    const minute = this.digitsAt(o + 14, 2)
    const second = this.digitsAt(o + 17, 2)
    const millis = withMillis ? this.digitsAt(o + 20, 3) : 0
    if (
      year < 100 ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > daysInMonth(year, month) ||
      hour < 0 ||
      hour > 23 ||
      minute < 0 ||
      minute > 59 ||
      second < 0 ||
      second > 59 ||
      millis < 0
    ) {
      return false
    }
    this.p = z + 2
    this.eventTimeMs = Date.UTC(year, month - 1, day, hour, minute, second, millis)
    return true
  }
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] as number)
}

const scanner = new Scanner()

/**
 * The event in `bytes` when it is certainly valid (validateEvent would accept it with this
 * event time, and JSON.parse would give these values), else null: the slow path then decides.
 */
export function scanEvent(
  bytes: Uint8Array,
  ingestionMs: number,
  options: ValidationOptions,
  limits: RecordLimits = DEFAULT_LIMITS
): ScannedEvent | null {
  return scanner.scan(bytes, ingestionMs, options, limits)
}
