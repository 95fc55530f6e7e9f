import type { CommissionType } from './event.ts'

/**
 * DarooghePulse pricing: every payment carries a commission (by the merchant's commission
 * type), 9 % VAT on the amount, and `total_amount = amount + vat_amount + commission_amount`.
 *
 * All amounts are integer Rial. Each component is truncated to a whole Rial (like Python's
 * `int()` in the reference generator) and the total is the sum of the truncated parts, so
 * `total_amount − (amount + vat_amount + commission_amount)` is exactly 0 for every
 * generated valid event. Truncation, not rounding, is what the reference sample events show:
 * amount 1,287,631 has vat_amount 115,886 (= ⌊115,886.79⌋) and amount 806,994 has a flat
 * commission of 16,139 (= ⌊16,139.88⌋); the headline sample (351,671 → commission 7,033,
 * vat 31,650, total 390,354) agrees with both.
 *
 * Rates are held in basis points and applied with integer arithmetic, so there is no
 * floating-point drift (`⌊amount × bp / 10,000⌋` is exact for amounts below 2^53 / 10,000).
 *
 * Commission schedules:
 * - `flat`: 2 % of the amount.
 * - `progressive`: marginal slices, like income tax: 1.5 % of the part up to 500,000,
 *   2 % of the part from 500,000 to 1,000,000, 2.5 % of the part above 1,000,000.
 * - `tiered`: the same brackets, but the whole amount is charged the rate of the bracket it
 *   falls in (≤ 500,000 → 1.5 %, ≤ 1,000,000 → 2 %, above → 2.5 %).
 *
 * Progressive and tiered share one bracket table so they can be compared fairly in the
 * commission-efficiency analytics: tiered always charges at least as much as progressive,
 * and the two agree up to 500,000.
 */

/** VAT rate in basis points (9 %). */
export const VAT_BP = 900
/** Flat commission rate in basis points (2 %). */
export const FLAT_BP = 200

export interface Bracket {
  /** Inclusive upper bound of the bracket in Rial; `Infinity` for the last one. */
  upTo: number
  /** Rate in basis points. */
  bp: number
}

/** Brackets shared by the progressive and tiered schedules. */
export const BRACKETS: readonly Bracket[] = Object.freeze([
  { upTo: 500_000, bp: 150 },
  { upTo: 1_000_000, bp: 200 },
  { upTo: Infinity, bp: 250 }
])

export interface Pricing {
  commission_amount: number
  vat_amount: number
  total_amount: number
}

function assertAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`amount must be a non-negative integer number of Rial (got ${amount})`)
  }
}

/** VAT on `amount`: ⌊9 % × amount⌋. */
export function vatFor(amount: number): number {
  assertAmount(amount)
  return Math.floor((amount * VAT_BP) / 10_000)
}

/** Commission on `amount` under the given schedule (see the module comment). */
export function commissionFor(type: CommissionType, amount: number): number {
  assertAmount(amount)
  switch (type) {
    case 'flat':
      return Math.floor((amount * FLAT_BP) / 10_000)
    case 'progressive': {
      // Sum of slice × bp, in Rial-basis-points, truncated once at the end.
      let lower = 0
      let weighted = 0
      for (const { upTo, bp } of BRACKETS) {
        if (amount <= lower) break
        weighted += (Math.min(amount, upTo) - lower) * bp
        lower = upTo
      }
      return Math.floor(weighted / 10_000)
    }
    case 'tiered': {
      const bracket = BRACKETS.find(b => amount <= b.upTo) ?? (BRACKETS[BRACKETS.length - 1] as Bracket)
      return Math.floor((amount * bracket.bp) / 10_000)
    }
  }
}

/** Commission, VAT and total for a payment of `amount` Rial. */
export function priceFor(type: CommissionType, amount: number): Pricing {
  const commission_amount = commissionFor(type, amount)
  const vat_amount = vatFor(amount)
  return { commission_amount, vat_amount, total_amount: amount + vat_amount + commission_amount }
}
