import type { Row } from './row.ts'

/** What the segmentation and the per-user distribution need of one customer. */
export interface CustomerTotals {
  count: number
  /** Integer Rial. */
  spend: number
  lastMs: number
}

/**
 * One entry per customer: the only state that grows with the data (besides merchants), a few
 * numbers each, so a million events by 100,000 customers stay a few megabytes.
 */
export class CustomerAccumulator {
  readonly customers = new Map<string, CustomerTotals>()
  /** The data set's last event time, epoch ms (recency is measured from it). */
  lastMs = Number.NEGATIVE_INFINITY

  add(r: Row): void {
    const c = this.customers.get(r.customerId)
    if (c) {
      c.count++
      c.spend += r.amount
      if (r.timeMs > c.lastMs) c.lastMs = r.timeMs
    } else this.customers.set(r.customerId, { count: 1, spend: r.amount, lastMs: r.timeMs })
    if (r.timeMs > this.lastMs) this.lastMs = r.timeMs
  }
}
