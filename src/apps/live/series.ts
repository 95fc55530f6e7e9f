import { build, type Histogram } from 'hdr-histogram-js'

/** Counts of one wall-clock second. */
export interface SecondPoint {
  /** Start of the second, epoch ms. */
  readonly t: number
  readonly events: number
  readonly fraud: number
  readonly alerts: number
}

/** Latency percentiles of one slot (ms); null when nothing was read in it. */
export interface LatencyPoint {
  readonly t: number
  readonly count: number
  readonly p50: number | null
  readonly p90: number | null
  readonly p99: number | null
  readonly max: number | null
}

export interface Percentiles {
  readonly count: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

interface Second {
  t: number
  events: number
  fraud: number
  alerts: number
}

/**
 * Per-second counters over a fixed horizon, in a ring indexed by second: recording is O(1)
 * and an idle second costs nothing (a slot is reset when its second comes round again).
 */
export class CounterSeries {
  readonly #ring: Second[]

  constructor(readonly seconds: number) {
    this.#ring = Array.from({ length: seconds }, () => ({ t: -1, events: 0, fraud: 0, alerts: 0 }))
  }

  add(nowMs: number, field: 'events' | 'fraud' | 'alerts', n = 1): void {
    const slot = this.#slot(nowMs)
    slot[field] += n
  }

  /** The last `seconds` seconds up to (and including) the current one, oldest first, zeros filled in. */
  points(nowMs: number, seconds = this.seconds): SecondPoint[] {
    const current = Math.floor(nowMs / 1000)
    const out: SecondPoint[] = []
    for (let s = current - Math.min(seconds, this.seconds) + 1; s <= current; s++) {
      const slot = this.#ring[mod(s, this.seconds)]!
      const t = s * 1000
      out.push(slot.t === t ? { t, events: slot.events, fraud: slot.fraud, alerts: slot.alerts } : zero(t))
    }
    return out
  }

  #slot(nowMs: number): Second {
    const s = Math.floor(nowMs / 1000)
    const slot = this.#ring[mod(s, this.seconds)]!
    if (slot.t !== s * 1000) Object.assign(slot, zero(s * 1000))
    return slot
  }
}

const HIGHEST_MS = 3_600_000

function histogram(): Histogram {
  // Two significant digits: 1 % resolution is plenty for a dashboard and keeps each slot small.
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MS,
    numberOfSignificantValueDigits: 2
  })
}

/**
 * Latency histograms in slots of `slotMs` (HdrHistogram): percentiles per slot for the chart,
 * and over the last N slots merged for the tiles. Values are clamped into [0, 1 h].
 */
export class LatencySeries {
  readonly #slots: { t: number; h: Histogram }[]

  constructor(
    readonly slotMs: number,
    readonly slotCount: number
  ) {
    this.#slots = Array.from({ length: slotCount }, () => ({ t: -1, h: histogram() }))
  }

  record(nowMs: number, valueMs: number): void {
    const start = Math.floor(nowMs / this.slotMs) * this.slotMs
    const slot = this.#slots[mod(start / this.slotMs, this.slotCount)]!
    if (slot.t !== start) {
      slot.h.reset()
      slot.t = start
    }
    slot.h.recordValue(Math.min(HIGHEST_MS, Math.max(0, Math.round(valueMs))))
  }

  /** Percentiles over the slots that started within the last `windowMs`. */
  over(nowMs: number, windowMs: number): Percentiles {
    const merged = histogram()
    for (const slot of this.#slots) if (slot.t >= 0 && slot.t > nowMs - windowMs) merged.add(slot.h)
    const out = summary(merged)
    merged.destroy()
    return out
  }

  /** One point per slot over the horizon, oldest first. */
  points(nowMs: number): LatencyPoint[] {
    const current = Math.floor(nowMs / this.slotMs)
    const out: LatencyPoint[] = []
    for (let i = current - this.slotCount + 1; i <= current; i++) {
      const t = i * this.slotMs
      const slot = this.#slots[mod(i, this.slotCount)]!
      if (slot.t !== t || slot.h.totalCount === 0) {
        out.push({ t, count: 0, p50: null, p90: null, p99: null, max: null })
        continue
      }
      out.push({ t, ...summary(slot.h) })
    }
    return out
  }
}

function summary(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 }
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    max: h.maxValue
  }
}

function zero(t: number): Second {
  return { t, events: 0, fraud: 0, alerts: 0 }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n
}
