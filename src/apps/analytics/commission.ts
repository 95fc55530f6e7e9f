import { COMMISSION_TYPES, MERCHANT_CATEGORIES, type CommissionType } from '../../domain/event.ts'
import type { Row } from './row.ts'

export interface CommissionCell {
  readonly category: string
  readonly commission_type: CommissionType
  readonly count: number
  /** Integer Rial. */
  readonly total_commission: number
  readonly total_amount: number
  readonly mean_commission: number
  /** total_commission / total_amount (0 when there is no amount). */
  readonly commission_ratio: number
  /** This cell's share of all commission earned (0 to 1). */
  readonly revenue_share: number
}

export interface CommissionReport {
  readonly total_commission: number
  /** Every category × type, including empty cells (count 0), categories then types in schema order. */
  readonly cells: readonly CommissionCell[]
  /** Per category: the structure earning the most commission, and the one with the best ratio. */
  readonly best: readonly {
    readonly category: string
    readonly by_total: CommissionType | null
    readonly by_ratio: CommissionType | null
  }[]
}

interface Sums {
  count: number
  commission: number
  amount: number
}

/**
 * Commission efficiency by merchant category × commission type, over every analysed
 * transaction (declined ones included: the fee schedule applies to the attempt, and the
 * stream carries the amount charged).
 */
export class CommissionAccumulator {
  readonly #cells = new Map<string, Sums>()

  add(r: Row): void {
    const key = `${r.category}\u0000${r.commissionType}`
    let s = this.#cells.get(key)
    if (!s) this.#cells.set(key, (s = { count: 0, commission: 0, amount: 0 }))
    s.count++
    s.commission += r.commission
    s.amount += r.amount
  }

  result(): CommissionReport {
    let total = 0
    for (const s of this.#cells.values()) total += s.commission
    const cells: CommissionCell[] = []
    const best: CommissionReport['best'][number][] = []
    for (const category of MERCHANT_CATEGORIES) {
      const row: CommissionCell[] = []
      for (const type of COMMISSION_TYPES) {
        const s = this.#cells.get(`${category}\u0000${type}`) ?? { count: 0, commission: 0, amount: 0 }
        row.push({
          category,
          commission_type: type,
          count: s.count,
          total_commission: s.commission,
          total_amount: s.amount,
          mean_commission: s.count === 0 ? 0 : s.commission / s.count,
          commission_ratio: s.amount === 0 ? 0 : s.commission / s.amount,
          revenue_share: total === 0 ? 0 : s.commission / total
        })
      }
      cells.push(...row)
      const used = row.filter(c => c.count > 0)
      // Ties go to the first type in schema order (flat, progressive, tiered): reduce keeps the earlier.
      const top = (f: (c: CommissionCell) => number): CommissionType | null =>
        used.length === 0 ? null : used.reduce((a, b) => (f(b) > f(a) ? b : a)).commission_type
      best.push({ category, by_total: top(c => c.total_commission), by_ratio: top(c => c.commission_ratio) })
    }
    return { total_commission: total, cells, best }
  }
}
