import type { Row } from './row.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
/** Monday first (ISO 8601); index 0 is Monday. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const

export interface Bucket {
  readonly count: number
  /** Integer Rial. */
  readonly amount: number
}

export interface TemporalReport {
  /** 24 buckets, hour of day UTC. */
  readonly by_hour: readonly Bucket[]
  /** 7 buckets, Monday first. */
  readonly by_weekday: readonly Bucket[]
  /** Counts, [weekday][hour]. */
  readonly hour_weekday: readonly (readonly number[])[]
  /** The 3 busiest hours of day by count (ties: earlier hour first). */
  readonly peak_hours: readonly { readonly hour: number; readonly count: number }[]
  /** Every day from the first to the last event (UTC), gaps included as zero. */
  readonly daily: readonly (Bucket & { readonly day: string })[]
}

/** Counts and amounts by hour of day, weekday and calendar day, all in UTC. */
export class TemporalAccumulator {
  readonly #hourCount = new Array<number>(24).fill(0)
  readonly #hourAmount = new Array<number>(24).fill(0)
  readonly #matrix = Array.from({ length: 7 }, () => new Array<number>(24).fill(0))
  readonly #dayAmount = new Array<number>(7).fill(0)
  /** By day index (epoch ms / DAY_MS): [count, amount]. */
  readonly #days = new Map<number, [number, number]>()

  add(r: Row): void {
    const dayIndex = Math.floor(r.timeMs / DAY_MS)
    const hour = Math.floor((r.timeMs - dayIndex * DAY_MS) / HOUR_MS)
    // 1970-01-01 was a Thursday (index 3 when Monday is 0).
    const weekday = (((dayIndex + 3) % 7) + 7) % 7
    this.#hourCount[hour]!++
    this.#hourAmount[hour]! += r.amount
    this.#matrix[weekday]![hour]!++
    this.#dayAmount[weekday]! += r.amount
    const d = this.#days.get(dayIndex)
    if (d) {
      d[0]++
      d[1] += r.amount
    } else this.#days.set(dayIndex, [1, r.amount])
  }

  result(): TemporalReport {
    const by_hour = this.#hourCount.map((count, h) => ({ count, amount: this.#hourAmount[h]! }))
    const by_weekday = this.#matrix.map((hours, w) => ({
      count: hours.reduce((a, b) => a + b, 0),
      amount: this.#dayAmount[w]!
    }))
    const peak_hours = by_hour
      .map((b, hour) => ({ hour, count: b.count }))
      .filter(p => p.count > 0)
      .sort((a, b) => b.count - a.count || a.hour - b.hour)
      .slice(0, 3)
    const indexes = [...this.#days.keys()]
    const daily: TemporalReport['daily'][number][] = []
    if (indexes.length > 0) {
      indexes.sort((a, b) => a - b)
      const first = indexes[0]!
      const last = indexes[indexes.length - 1]!
      // A stray timestamp years away must not make thousands of empty days: fill gaps only
      // within a span a chart can show.
      const span = last - first < MAX_FILLED_DAYS ? range(first, last) : indexes
      for (const i of span) {
        const [count, amount] = this.#days.get(i) ?? [0, 0]
        daily.push({ day: dayString(i), count, amount })
      }
    }
    return { by_hour, by_weekday, hour_weekday: this.#matrix.map(r => [...r]), peak_hours, daily }
  }
}

const MAX_FILLED_DAYS = 400

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i)
}

/** 'YYYY-MM-DD' of a day index (days since 1970-01-01 UTC). */
export function dayString(dayIndex: number): string {
  return new Date(dayIndex * DAY_MS).toISOString().slice(0, 10)
}
