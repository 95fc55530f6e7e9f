/**
 * Event-time windows as pure functions, after Kafka Streams' `windowsFor(ts)`: a window is
 * [start, end) for tumbling and hopping windows, and [t - size, t] (both ends included) for the
 * sliding "within the last N" windows the rules use.
 */
export interface TimeWindow {
  readonly start: number
  readonly end: number
}

/** Start of the tumbling window of `size` ms (aligned to the epoch) that holds `t`. */
export function tumblingStart(t: number, sizeMs: number): number {
  return t - mod(t, sizeMs)
}

/** Every hopping window [start, start + size) with start a multiple of `advance` that holds `t`, oldest first. */
export function hoppingWindows(t: number, sizeMs: number, advanceMs: number): TimeWindow[] {
  const out: TimeWindow[] = []
  const last = t - mod(t, advanceMs)
  for (let start = last; start > t - sizeMs; start -= advanceMs) out.unshift({ start, end: start + sizeMs })
  return out
}

/** Whether `t` lies in the look-back window of `sizeMs` ending at `end`, both ends included. */
export function inLookback(t: number, end: number, sizeMs: number): boolean {
  return t <= end && t >= end - sizeMs
}

/** Whether a window can receive no more events once stream time (max event time seen) is `streamTime`. */
export function isClosed(w: TimeWindow, streamTime: number, allowedLatenessMs: number): boolean {
  return w.end + allowedLatenessMs <= streamTime
}

/** Number of `times` (sorted ascending) in the look-back window ending at `end`, both ends included. */
export function countInLookback(times: readonly number[], end: number, sizeMs: number): number {
  return upperBound(times, end) - lowerBound(times, end - sizeMs)
}

/** First index whose value is >= x. */
export function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index whose value is > x. */
export function upperBound(sorted: readonly number[], x: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b
}
