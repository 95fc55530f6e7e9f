import { MERCHANT_CATEGORIES, PAYMENT_METHODS, STATUSES } from '../../domain/event.ts'
import type { Row } from './row.ts'
import { dayString } from './temporal.ts'

const DAY_MS = 86_400_000

export interface SummaryReport {
  readonly transactions: number
  /** Sum of amounts, Rial (integer). */
  readonly total_value: number
  readonly average_amount: number
  readonly total_commission: number
  readonly first_event: string | null
  readonly last_event: string | null
  readonly by_status: Readonly<Record<string, number>>
  readonly by_category: Readonly<Record<string, number>>
  readonly by_payment_method: Readonly<Record<string, number>>
}

export interface FraudReport {
  /** Rows that carried a decision. */
  readonly decided: number
  readonly fraud: number
  readonly rate: number
  readonly daily: readonly {
    readonly day: string
    readonly decided: number
    readonly fraud: number
    readonly rate: number
  }[]
}

const zeros = (keys: readonly string[]): Record<string, number> => Object.fromEntries(keys.map(k => [k, 0]))

/** The seed's summary: average amount, total value, counts by status, category and payment method. */
export class SummaryAccumulator {
  #count = 0
  #value = 0
  #commission = 0
  #first = Number.POSITIVE_INFINITY
  #last = Number.NEGATIVE_INFINITY
  readonly #status = zeros(STATUSES)
  readonly #category = zeros(MERCHANT_CATEGORIES)
  readonly #method = zeros(PAYMENT_METHODS)

  add(r: Row): void {
    this.#count++
    this.#value += r.amount
    this.#commission += r.commission
    if (r.timeMs < this.#first) this.#first = r.timeMs
    if (r.timeMs > this.#last) this.#last = r.timeMs
    this.#status[r.status]!++
    this.#category[r.category]!++
    this.#method[r.method]!++
  }

  result(): SummaryReport {
    const n = this.#count
    return {
      transactions: n,
      total_value: this.#value,
      average_amount: n === 0 ? 0 : this.#value / n,
      total_commission: this.#commission,
      first_event: n === 0 ? null : new Date(this.#first).toISOString(),
      last_event: n === 0 ? null : new Date(this.#last).toISOString(),
      by_status: { ...this.#status },
      by_category: { ...this.#category },
      by_payment_method: { ...this.#method }
    }
  }
}

/** Fraud rate overall and per day (UTC), over the rows that carry a decision. */
export class FraudAccumulator {
  readonly #days = new Map<number, [number, number]>()

  add(r: Row): void {
    if (r.decision === undefined) return
    const day = Math.floor(r.timeMs / DAY_MS)
    let d = this.#days.get(day)
    if (!d) this.#days.set(day, (d = [0, 0]))
    d[0]++
    if (r.decision === 'fraud') d[1]++
  }

  /** null when no row carried a decision (raw generator output). */
  result(): FraudReport | null {
    if (this.#days.size === 0) return null
    let decided = 0
    let fraud = 0
    const daily = [...this.#days.keys()]
      .sort((a, b) => a - b)
      .map(i => {
        const [d, f] = this.#days.get(i)!
        decided += d
        fraud += f
        return { day: dayString(i), decided: d, fraud: f, rate: f / d }
      })
    return { decided, fraud, rate: fraud / decided, daily }
  }
}
