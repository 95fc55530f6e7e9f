import { isUtf8 } from 'node:buffer'

/**
 * The limits of a record, part of the contract of every reader: how large a record may be, how
 * deep it may nest, how long one string or number may be and how many fields it may hold. They
 * are checked on the bytes, in one iterative pass, before anything recursive (JSON.parse,
 * JSON.stringify, a validator, an Avro decoder) touches them, so no payload can exhaust the
 * stack or the heap of a reader. A record beyond a limit is an ERR_SCHEMA error naming the limit.
 */

export interface RecordLimits {
  /** Largest record (its value's bytes). Default 64 KiB (`--max-event-bytes`). */
  readonly maxEventBytes: number
  /** Deepest nesting of objects and arrays; the record itself is depth 1. Default 32. */
  readonly maxDepth: number
  /** Longest string or number literal, in bytes as written (escapes included). Default 8 KiB. */
  readonly maxStringBytes: number
  /** Most fields: object members plus array elements, over the whole record. Default 1,000. */
  readonly maxFields: number
}

export const DEFAULT_LIMITS: RecordLimits = Object.freeze({
  maxEventBytes: 64 * 1024,
  maxDepth: 32,
  maxStringBytes: 8 * 1024,
  maxFields: 1_000
})

/** Which limit a record broke, named as its flag is. */
export type LimitName = 'max-event-bytes' | 'max-depth' | 'max-string-bytes' | 'max-fields'

export interface LimitViolation {
  readonly limit: LimitName
  /** One line: the limit, its value and where the record broke it. */
  readonly message: string
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d

/** Bytes that separate tokens outside strings: whitespace and JSON punctuation. */
const DELIMITER = new Uint8Array(256)
for (const c of [0x20, 0x09, 0x0a, 0x0d, COLON, COMMA, LBRACE, RBRACE, LBRACKET, RBRACKET, QUOTE])
  DELIMITER[c] = 1

/**
 * Checks `bytes` against `limits` without parsing them: one pass that follows strings (and
 * their escapes), brackets and separators. It does not validate JSON, it only bounds the work a
 * parser will do on it; bytes that are not JSON at all pass here and fail at the parser.
 * Returns null when the record is within every limit.
 */
export function checkRecordLimits(
  bytes: Uint8Array,
  limits: RecordLimits = DEFAULT_LIMITS
): LimitViolation | null {
  const n = bytes.length
  if (n > limits.maxEventBytes) {
    // Readers that cut an overlong record keep its first maxEventBytes + 1 bytes: all we know then.
    const size = n === limits.maxEventBytes + 1 ? `more than ${limits.maxEventBytes}` : `${n}`
    return violation('max-event-bytes', limits.maxEventBytes, `the record has ${size} bytes`)
  }
  // Bit d of `arrays` (as a list of booleans) says whether container d is an array: its
  // elements count as fields, where an object's members are counted at their colons.
  const arrays: boolean[] = []
  let depth = 0
  let fields = 0
  let i = 0
  while (i < n) {
    const c = bytes[i]!
    if (c === QUOTE) {
      const start = i
      i++
      while (i < n && bytes[i] !== QUOTE) i += bytes[i] === BACKSLASH ? 2 : 1
      i++
      if (depth > 0 && arrays[depth - 1] === true && opensElement(bytes, start)) fields++
      if (i - start > limits.maxStringBytes) {
        return violation(
          'max-string-bytes',
          limits.maxStringBytes,
          `a string of ${i - start} bytes at byte ${start}`
        )
      }
      continue
    }
    if (c === LBRACE || c === LBRACKET) {
      if (depth > 0 && arrays[depth - 1] === true && opensElement(bytes, i)) fields++
      depth++
      if (depth > limits.maxDepth) {
        return violation('max-depth', limits.maxDepth, `nesting reaches ${depth} at byte ${i}`)
      }
      arrays[depth - 1] = c === LBRACKET
    } else if (c === RBRACE || c === RBRACKET) {
      if (depth > 0) depth--
    } else if (c === COLON) {
      fields++
    } else if (c === COMMA) {
      if (depth > 0 && arrays[depth - 1] === true) fields++
    } else if (DELIMITER[c] === 0) {
      // A bare token: a number, true, false, null, or garbage. Bounded like a string.
      const start = i
      while (i < n && DELIMITER[bytes[i]!] === 0) i++
      if (i - start > limits.maxStringBytes) {
        return violation(
          'max-string-bytes',
          limits.maxStringBytes,
          `a literal of ${i - start} bytes at byte ${start}`
        )
      }
      if (depth > 0 && arrays[depth - 1] === true && opensElement(bytes, start)) fields++
      continue
    }
    if (fields > limits.maxFields) {
      return violation('max-fields', limits.maxFields, `more than ${limits.maxFields} fields at byte ${i}`)
    }
    i++
  }
  if (fields > limits.maxFields) {
    return violation('max-fields', limits.maxFields, `the record has ${fields} fields`)
  }
  return null
}

/**
 * Whether the value at `at` is the first element of its array (the elements after it are
 * counted at their commas): the last byte before it that is not whitespace is `[`.
 */
function opensElement(bytes: Uint8Array, at: number): boolean {
  let j = at - 1
  while (j >= 0) {
    const c = bytes[j]!
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c === LBRACKET
    j--
  }
  return false
}

function violation(limit: LimitName, value: number, where: string): LimitViolation {
  return { limit, message: `record exceeds --${limit} ${value}: ${where}` }
}

/** The reason given for bytes that are not UTF-8. */
export const NOT_UTF8 = 'not valid UTF-8: the value holds invalid byte sequences'

export type LimitedParse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: string; readonly limit: LimitName | null }

/**
 * JSON.parse behind the limits: the one way this project parses a record it did not write.
 * Never throws. Checks the limits on the bytes first, so JSON.parse (and whatever walks the
 * result recursively afterwards, such as JSON.stringify) only ever sees bounded input.
 */
export function parseJsonWithin(
  payload: Uint8Array | string,
  limits: RecordLimits = DEFAULT_LIMITS
): LimitedParse {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  if (bytes.length === 0) return { ok: false, error: 'not JSON: empty payload', limit: null }
  const v = checkRecordLimits(bytes, limits)
  if (v !== null) return { ok: false, error: v.message, limit: v.limit }
  // Decoding would replace bad sequences with U+FFFD: two different values could read the same.
  if (typeof payload !== 'string' && !isUtf8(bytes)) {
    return { ok: false, error: NOT_UTF8, limit: null }
  }
  const text =
    typeof payload === 'string'
      ? payload
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}`, limit: null }
  }
}

/**
 * The bytes of a rejected record as kept in its error record: base64 of at most `maxBytes`
 * (the record size limit), so an error record is never larger than the records it reports.
 */
export function truncatedBase64(bytes: Uint8Array, maxBytes: number): { base64: string; truncated: boolean } {
  const kept = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes
  return {
    base64: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString('base64'),
    truncated: kept.length < bytes.length
  }
}

/** Reads a limits override, e.g. from flags: each given value must be a positive integer. */
export function recordLimits(overrides: Partial<Record<keyof RecordLimits, number>> = {}): RecordLimits {
  const out = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof RecordLimits)[]) {
    const v = overrides[key]
    if (v === undefined) continue
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer (got ${v})`)
    out[key] = v
  }
  return Object.freeze(out)
}
