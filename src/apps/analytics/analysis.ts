import { CommissionAccumulator, type CommissionReport } from './commission.ts'
import { CustomerAccumulator } from './customers.ts'
import { MerchantAccumulator, type MerchantsReport } from './merchants.ts'
import type { Row } from './row.ts'
import { segmentsReport, type SegmentsReport } from './segments.ts'
import { FraudAccumulator, SummaryAccumulator, type FraudReport, type SummaryReport } from './summary.ts'
import { TemporalAccumulator, type TemporalReport } from './temporal.ts'
import { usersReport, type UsersReport } from './users.ts'

/** Every aggregate of one run; the keys name the reports (and their MongoDB collections). */
export interface AnalyticsResults {
  readonly summary: SummaryReport
  readonly fraud: FraudReport | null
  readonly commission: CommissionReport
  readonly temporal: TemporalReport
  readonly segments: SegmentsReport
  readonly merchants: MerchantsReport
  readonly users: UsersReport
}

/**
 * All aggregates fed batch by batch: rows are folded into fixed-size counters and per-customer
 * and per-merchant maps, then dropped, so memory does not grow with the number of events.
 */
export class Analysis {
  readonly #summary = new SummaryAccumulator()
  readonly #fraud = new FraudAccumulator()
  readonly #commission = new CommissionAccumulator()
  readonly #temporal = new TemporalAccumulator()
  readonly #customers = new CustomerAccumulator()
  readonly #merchants = new MerchantAccumulator()
  rows = 0

  addBatch(rows: readonly Row[]): void {
    for (const r of rows) {
      this.#summary.add(r)
      this.#fraud.add(r)
      this.#commission.add(r)
      this.#temporal.add(r)
      this.#customers.add(r)
      this.#merchants.add(r)
    }
    this.rows += rows.length
  }

  results(): AnalyticsResults {
    const customers = this.#customers
    return {
      summary: this.#summary.result(),
      fraud: this.#fraud.result(),
      commission: this.#commission.result(),
      temporal: this.#temporal.result(),
      segments: segmentsReport(customers.customers, customers.lastMs),
      merchants: this.#merchants.result(),
      users: usersReport(customers.customers)
    }
  }
}
