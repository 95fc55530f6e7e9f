import type { Row } from './row.ts'

export interface MerchantTotals {
  readonly merchant_id: string
  readonly category: string
  readonly count: number
  /** Integer Rial. */
  readonly amount: number
  readonly commission: number
}

export interface MerchantsReport {
  readonly merchants: number
  /** Ties: the smaller merchant_id first. */
  readonly top_by_count: readonly MerchantTotals[]
  readonly top_by_commission: readonly MerchantTotals[]
}

interface Sums {
  category: string
  count: number
  amount: number
  commission: number
}

/** Per-merchant totals and the top N by transaction count and by commission earned. */
export class MerchantAccumulator {
  readonly #merchants = new Map<string, Sums>()

  constructor(readonly top = 5) {}

  add(r: Row): void {
    const m = this.#merchants.get(r.merchantId)
    if (m) {
      m.count++
      m.amount += r.amount
      m.commission += r.commission
    } else {
      this.#merchants.set(r.merchantId, {
        category: r.category,
        count: 1,
        amount: r.amount,
        commission: r.commission
      })
    }
  }

  result(): MerchantsReport {
    const all: MerchantTotals[] = [...this.#merchants].map(([merchant_id, s]) => ({ merchant_id, ...s }))
    const byId = (a: MerchantTotals, b: MerchantTotals): number =>
      a.merchant_id < b.merchant_id ? -1 : a.merchant_id > b.merchant_id ? 1 : 0
    return {
      merchants: all.length,
      top_by_count: [...all].sort((a, b) => b.count - a.count || byId(a, b)).slice(0, this.top),
      top_by_commission: [...all].sort((a, b) => b.commission - a.commission || byId(a, b)).slice(0, this.top)
    }
  }
}
