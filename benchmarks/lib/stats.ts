/**
 * Pure statistics of the benchmark harness: run summaries, rates and HDR-histogram
 * percentiles. No clocks and no I/O here, so `test/unit/bench-*.test.ts` can check them on
 * synthetic inputs.
 */
import { build, type Histogram } from 'hdr-histogram-js'

/** Median of the runs, with their min and max. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: number
}

/** Median (mean of the two middle values for an even count), min and max; throws on no values. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no values')
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length }
}

/** Events per second of `events` in `ms` milliseconds (0 when no time elapsed). */
export function ratePerSecond(events: number, ms: number): number {
  return ms > 0 ? (events * 1000) / ms : 0
}

/** CPU seconds per 1,000 events from a `process.cpuUsage()` delta in microseconds. */
export function cpuSecondsPerThousand(cpuMicros: number, events: number): number {
  return events > 0 ? cpuMicros / 1e6 / (events / 1000) : 0
}

/**
 * A latency histogram in microseconds, from 1 µs to 1 hour, 3 significant digits (values are
 * exact within 0.1 %).
 */
export function latencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3
  })
}

/** Records a latency given in (fractional) milliseconds; below 1 µs counts as 1 µs. */
export function recordLatencyMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)))
}

export interface Percentiles {
  readonly count: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

/**
 * Percentiles of a microsecond histogram, in milliseconds (3 decimals). HDR answers with the
 * highest value of a bucket, which can exceed the largest value recorded: capped at the max.
 */
export function percentilesMs(h: Histogram): Percentiles {
  const ms = (us: number): number => Math.round(Math.min(us, h.maxValue)) / 1000
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue)
  }
}

/**
 * The highest step rate that passed: steps are tried in increasing order and the search
 * stops at the first failure, so a later lucky step does not count.
 */
export function maxSustainable(steps: readonly { rate: number; passed: boolean }[]): number | null {
  let best: number | null = null
  for (const s of steps) {
    if (!s.passed) break
    best = s.rate
  }
  return best
}
