import { Random } from '../../domain/random.ts'
import type { ResolvedGeneratorOptions } from './options.ts'

/**
 * When payments happen. The default is a non-homogeneous Poisson process whose intensity
 * follows the local time in Tehran (UTC+03:30, no daylight saving since 2022):
 *
 * | local time    | factor                    |
 * |---------------|---------------------------|
 * | 00:00–06:00   | 0.2 (night)               |
 * | 06:00–09:00   | 0.6                       |
 * | 09:00–11:00   | 1                         |
 * | 11:00–14:00   | peakFactor (midday peak)  |
 * | 14:00–17:00   | 1                         |
 * | 17:00–21:00   | peakFactor (evening peak) |
 * | 21:00–24:00   | 0.6                       |
 *
 * times a weekday factor: Friday (the Iranian weekend) 0.6, Thursday (a half working day)
 * 0.85, Saturday to Wednesday 1. The intensity is `eventsPerMinute / 60 × factor` events
 * per second, so `EVENT_RATE` is the rate of an ordinary weekday daytime hour.
 *
 * The intensity is constant within each hour, so arrivals are drawn exactly (no thinning):
 * one unit exponential is spent across hour segments at each segment's rate.
 */

export const TEHRAN_OFFSET_MS = 210 * 60_000
const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** Shape factor of the local hour of day (peak hours take `peakFactor`). */
export function hourFactor(hourOfDay: number, peakFactor: number): number {
  if (hourOfDay < 6) return 0.2
  if (hourOfDay < 9) return 0.6
  if (hourOfDay < 11) return 1
  if (hourOfDay < 14) return peakFactor
  if (hourOfDay < 17) return 1
  if (hourOfDay < 21) return peakFactor
  return 0.6
}

/** Shape factor of the local day of week (0 = Sunday … 5 = Friday, 6 = Saturday). */
export function dayFactor(dayOfWeek: number): number {
  if (dayOfWeek === 5) return 0.6
  if (dayOfWeek === 4) return 0.85
  return 1
}

/** Intensity in events per millisecond at event time `ms` (constant within a UTC hour). */
export function intensityAt(ms: number, eventsPerMinute: number, peakFactor: number): number {
  const local = ms + TEHRAN_OFFSET_MS
  const hourOfDay = Math.floor(local / HOUR_MS) % 24
  // 1970-01-01 was a Thursday (4).
  const dayOfWeek = (Math.floor(local / DAY_MS) + 4) % 7
  return (eventsPerMinute / 60_000) * hourFactor(hourOfDay, peakFactor) * dayFactor(dayOfWeek)
}

/** End of the hour segment containing `ms`. Tehran is a whole half hour off UTC, so segments are local hours. */
function segmentEnd(ms: number): number {
  return Math.floor((ms + TEHRAN_OFFSET_MS) / HOUR_MS + 1) * HOUR_MS - TEHRAN_OFFSET_MS
}

/** An endless increasing sequence of event times (ms, fractional). */
export interface Arrivals {
  /** The next arrival, without consuming it. */
  peek(): number
  /** Consumes and returns the next arrival. */
  next(): number
}

class PoissonArrivals implements Arrivals {
  private t: number
  private upcoming: number
  private segEnd = -Infinity
  private segRate = 0

  constructor(
    start: number,
    private readonly eventsPerMinute: number,
    private readonly peakFactor: number,
    private readonly random: Random
  ) {
    this.t = start
    this.upcoming = this.draw()
  }

  private draw(): number {
    let e = this.random.exponential(1)
    for (;;) {
      if (this.t >= this.segEnd) {
        this.segEnd = segmentEnd(this.t)
        this.segRate = intensityAt(this.t, this.eventsPerMinute, this.peakFactor)
      }
      const dt = e / this.segRate
      if (this.t + dt < this.segEnd) {
        this.t += dt
        return this.t
      }
      e -= (this.segEnd - this.t) * this.segRate
      this.t = this.segEnd
    }
  }

  peek(): number {
    return this.upcoming
  }

  next(): number {
    const t = this.upcoming
    this.upcoming = this.draw()
    return t
  }
}

class ConstantArrivals implements Arrivals {
  private i = 0
  private readonly stepMs: number

  constructor(
    private readonly start: number,
    perSecond: number
  ) {
    this.stepMs = 1000 / perSecond
  }

  peek(): number {
    // Multiplying instead of accumulating keeps the schedule free of drift.
    return this.start + this.i * this.stepMs
  }

  next(): number {
    const t = this.peek()
    this.i++
    return t
  }
}

export function createArrivals(options: ResolvedGeneratorOptions): Arrivals {
  if (typeof options.rate === 'number') return new ConstantArrivals(options.start, options.rate)
  return new PoissonArrivals(
    options.start,
    options.eventsPerMinute,
    options.peakFactor,
    Random.derive(options.seed, 'arrivals')
  )
}

/**
 * `n` increasing event times in [from, to), distributed like the Poisson intensity
 * (daily and weekly shape) but exactly `n` of them: sorted uniforms (from exponential
 * spacings) mapped through the inverse of the cumulative intensity.
 */
export function historyTimes(
  n: number,
  from: number,
  to: number,
  options: ResolvedGeneratorOptions,
  random: Random
): Float64Array {
  const out = new Float64Array(n)
  if (n === 0 || to <= from) return out.fill(from)
  const bounds: number[] = [from]
  const cumulative: number[] = [0]
  const rates: number[] = []
  for (let t = from; t < to;) {
    const end = Math.min(segmentEnd(t), to)
    const rate = intensityAt(t, options.eventsPerMinute, options.peakFactor)
    rates.push(rate)
    bounds.push(end)
    cumulative.push((cumulative[cumulative.length - 1] as number) + (end - t) * rate)
    t = end
  }
  let sum = 0
  for (let i = 0; i < n; i++) {
    sum += random.exponential(1)
    out[i] = sum
  }
  const total = (sum + random.exponential(1)) / (cumulative[cumulative.length - 1] as number)
  let seg = 0
  for (let i = 0; i < n; i++) {
    const target = (out[i] as number) / total
    while (seg < rates.length - 1 && (cumulative[seg + 1] as number) <= target) seg++
    const t = (bounds[seg] as number) + (target - (cumulative[seg] as number)) / (rates[seg] as number)
    out[i] = Math.min(t, to - 1)
  }
  return out
}

/** Says when, on the wall clock, each record is due; `-Infinity` means "now, no waiting". */
export interface Pacer {
  dueAt(record: { eventTimeMs: number; phase: 'history' | 'live' }): number
}

/**
 * Pacing against the wall clock (done by the caller, never by the library): a live record
 * is due at `wallStartMs + (eventTimeMs − start)`. Due times are absolute, so a caller that
 * stalls catches up instead of drifting. History records and `rate: 'max'` are never paced.
 */
export function createPacer(
  options: Pick<ResolvedGeneratorOptions, 'rate' | 'start'>,
  wallStartMs: number
): Pacer {
  if (options.rate === 'max') return { dueAt: () => -Infinity }
  const offset = wallStartMs - options.start
  return { dueAt: record => (record.phase === 'history' ? -Infinity : record.eventTimeMs + offset) }
}
