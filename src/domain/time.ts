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
  return Date.parse(value)
}

function fromEpoch(n: number): number {
  if (!Number.isFinite(n) || n < 0) return Number.NaN
  return n < SECONDS_LIMIT ? Math.round(n * 1000) : Math.round(n)
}

/** ISO-8601 UTC with milliseconds, the wire format of generated events. */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString()
}
