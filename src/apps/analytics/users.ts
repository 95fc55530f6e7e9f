import type { CustomerTotals } from './customers.ts'

/** Histogram buckets of transactions per user: [low, high] inclusive; high null = no bound. */
export const USER_BUCKETS: readonly (readonly [number, number | null])[] = [
  [1, 1],
  [2, 2],
  [3, 5],
  [6, 10],
  [11, 20],
  [21, 50],
  [51, null]
]

/** Engagement tiers: one-off, occasional, regular, heavy. */
export const ENGAGEMENT_TIERS: readonly (readonly [string, number, number | null])[] = [
  ['one_off', 1, 1],
  ['occasional', 2, 5],
  ['regular', 6, 20],
  ['heavy', 21, null]
]

export interface UsersReport {
  readonly users: number
  readonly histogram: readonly { readonly label: string; readonly users: number }[]
  readonly mean: number
  readonly median: number
  /** Nearest rank: the smallest count with at least 90 % of users at or below it. */
  readonly p90: number
  readonly max: number
  readonly engagement: readonly {
    readonly tier: string
    readonly label: string
    readonly users: number
    readonly share: number
  }[]
}

const label = (lo: number, hi: number | null): string =>
  hi === null ? `>${lo - 1}` : lo === hi ? `${lo}` : `${lo}–${hi}`
const inside = (n: number, lo: number, hi: number | null): boolean => n >= lo && (hi === null || n <= hi)

/** The distribution of transactions per user (customer) and engagement tiers. */
export function usersReport(customers: ReadonlyMap<string, CustomerTotals>): UsersReport {
  const counts = Float64Array.from([...customers.values()].map(c => c.count)).sort()
  const n = counts.length
  const sum = counts.reduce((a, b) => a + b, 0)
  const median = n === 0 ? 0 : n % 2 === 1 ? counts[(n - 1) / 2]! : (counts[n / 2 - 1]! + counts[n / 2]!) / 2
  const histogram = USER_BUCKETS.map(([lo, hi]) => ({
    label: label(lo, hi),
    users: countIn(counts, lo, hi)
  }))
  const engagement = ENGAGEMENT_TIERS.map(([tier, lo, hi]) => {
    const users = countIn(counts, lo, hi)
    return { tier, label: label(lo, hi), users, share: n === 0 ? 0 : users / n }
  })
  return {
    users: n,
    histogram,
    mean: n === 0 ? 0 : sum / n,
    median,
    p90: n === 0 ? 0 : counts[Math.ceil(0.9 * n) - 1]!,
    max: n === 0 ? 0 : counts[n - 1]!,
    engagement
  }
}

function countIn(sorted: Float64Array, lo: number, hi: number | null): number {
  let k = 0
  for (const c of sorted) if (inside(c, lo, hi)) k++
  return k
}
