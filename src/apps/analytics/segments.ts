import type { CustomerTotals } from './customers.ts'

const DAY_MS = 86_400_000

/** Segment names, in the order rules are tried and reported (see README.md). */
export const SEGMENTS = ['champions', 'loyal', 'new', 'at_risk', 'hibernating', 'promising'] as const
export type Segment = (typeof SEGMENTS)[number]

export interface SegmentProfile {
  readonly segment: Segment
  readonly customers: number
  /** Share of all customers, 0 to 1. */
  readonly share: number
  readonly mean_count: number
  /** Mean total spend per customer, Rial. */
  readonly mean_spend: number
  /** Mean days since the customer's last transaction, at the data set's last event time. */
  readonly mean_recency_days: number
  /** Total spend of the segment, Rial (integer). */
  readonly total_spend: number
}

export interface SegmentsReport {
  /** The data set's last event time (ISO), the reference of recency. */
  readonly reference_time: string | null
  readonly customers: number
  readonly segments: readonly SegmentProfile[]
}

export interface RfmScores {
  readonly r: number
  readonly f: number
  readonly m: number
}

/**
 * Quintile score 1–5 of each value among all values: 1 + floor(5 × (values strictly below) / n).
 * Equal values share a score, so the result does not depend on the order customers come in.
 */
export function quintileScores(values: Float64Array): Uint8Array {
  const n = values.length
  const sorted = Float64Array.from(values).sort()
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = 1 + Math.floor((5 * lowerBound(sorted, values[i]!)) / n)
  return out
}

function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The first rule that matches names the segment. */
export function segmentOf({ r, f, m }: RfmScores): Segment {
  if (r >= 4 && f >= 4 && m >= 4) return 'champions'
  if (r >= 3 && f >= 4) return 'loyal'
  if (r >= 4 && f <= 2) return 'new'
  if (r <= 2 && f >= 3) return 'at_risk'
  if (r <= 2 && f <= 2) return 'hibernating'
  return 'promising'
}

/**
 * RFM segmentation. Recency = days from the customer's last transaction to the data set's
 * last event; R scores recency reversed (most recent = 5), F the transaction count, M the
 * total spend.
 */
export function segmentsReport(
  customers: ReadonlyMap<string, CustomerTotals>,
  lastMs: number
): SegmentsReport {
  const list = [...customers.values()]
  const n = list.length
  const recency = Float64Array.from(list, c => (lastMs - c.lastMs) / DAY_MS)
  const rScores = quintileScores(recency)
  const fScores = quintileScores(Float64Array.from(list, c => c.count))
  const mScores = quintileScores(Float64Array.from(list, c => c.spend))
  const sums = new Map<Segment, { customers: number; count: number; spend: number; recency: number }>()
  for (let i = 0; i < n; i++) {
    const segment = segmentOf({ r: 6 - rScores[i]!, f: fScores[i]!, m: mScores[i]! })
    let s = sums.get(segment)
    if (!s) sums.set(segment, (s = { customers: 0, count: 0, spend: 0, recency: 0 }))
    s.customers++
    s.count += list[i]!.count
    s.spend += list[i]!.spend
    s.recency += recency[i]!
  }
  const segments = SEGMENTS.map(segment => {
    const s = sums.get(segment) ?? { customers: 0, count: 0, spend: 0, recency: 0 }
    const per = (x: number): number => (s.customers === 0 ? 0 : x / s.customers)
    return {
      segment,
      customers: s.customers,
      share: n === 0 ? 0 : s.customers / n,
      mean_count: per(s.count),
      mean_spend: per(s.spend),
      mean_recency_days: per(s.recency),
      total_spend: s.spend
    }
  })
  return {
    reference_time: n === 0 ? null : new Date(lastMs).toISOString(),
    customers: n,
    segments
  }
}
