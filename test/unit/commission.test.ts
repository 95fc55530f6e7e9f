import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BRACKETS, commissionFor, priceFor, vatFor } from '../../src/domain/commission.ts'

describe('commission and VAT', () => {
  it('matches the DarooghePulse sample events (flat 2 %, VAT 9 %, truncated)', () => {
    // amount 351,671 → commission 7,033, vat 31,650, total 390,354 (seeds/002)
    assert.deepEqual(priceFor('flat', 351_671), {
      commission_amount: 7_033,
      vat_amount: 31_650,
      total_amount: 390_354
    })
    assert.equal(commissionFor('flat', 747_269), 14_945) // 14,945.38
    assert.equal(vatFor(747_269), 67_254) // 67,254.21
    assert.equal(commissionFor('flat', 806_994), 16_139) // 16,139.88: truncated, not rounded
    assert.equal(vatFor(806_994), 72_629) // 72,629.46
    assert.equal(vatFor(1_287_631), 115_886) // 115,886.79: truncated, not rounded
    assert.equal(vatFor(131_107), 11_799)
  })

  it('progressive charges each slice at its own rate', () => {
    assert.equal(commissionFor('progressive', 0), 0)
    assert.equal(commissionFor('progressive', 351_671), 5_275) // 1.5 % → 5,275.065
    assert.equal(commissionFor('progressive', 500_000), 7_500)
    assert.equal(commissionFor('progressive', 800_000), 7_500 + 6_000) // + 2 % of 300,000
    assert.equal(commissionFor('progressive', 1_000_000), 17_500)
    assert.equal(commissionFor('progressive', 1_500_000), 17_500 + 12_500) // + 2.5 % of 500,000
    assert.equal(commissionFor('progressive', 1_287_631), 17_500 + 7_190) // 2.5 % of 287,631 = 7,190.775
  })

  it('tiered charges the whole amount at the rate of its bracket', () => {
    assert.equal(commissionFor('tiered', 400_000), 6_000)
    assert.equal(commissionFor('tiered', 500_000), 7_500)
    assert.equal(commissionFor('tiered', 500_001), 10_000) // 2 % of 500,001 = 10,000.02
    assert.equal(commissionFor('tiered', 1_000_000), 20_000)
    assert.equal(commissionFor('tiered', 1_000_001), 25_000)
    assert.equal(commissionFor('tiered', 1_500_000), 37_500)
  })

  it('progressive and tiered agree up to the first bound, tiered never charges less, progressive is continuous', () => {
    for (let amount = 0; amount <= 3_000_000; amount += 9_973) {
      const p = commissionFor('progressive', amount)
      const t = commissionFor('tiered', amount)
      assert.ok(t >= p, `tiered ${t} < progressive ${p} at ${amount}`)
      if (amount <= 500_000) assert.equal(t, p)
    }
    for (const { upTo } of BRACKETS.filter(b => Number.isFinite(b.upTo))) {
      const jump = commissionFor('progressive', upTo + 1) - commissionFor('progressive', upTo)
      assert.ok(jump >= 0 && jump <= 1, `progressive jumps by ${jump} at ${upTo}`)
    }
  })

  it('the total is exactly the sum of the integer parts', () => {
    for (const type of ['flat', 'progressive', 'tiered'] as const) {
      for (const amount of [1, 99, 50_000, 123_457, 999_999, 2_000_000, 48_211_390]) {
        const p = priceFor(type, amount)
        assert.ok(Number.isInteger(p.commission_amount) && Number.isInteger(p.vat_amount))
        assert.equal(p.total_amount, amount + p.vat_amount + p.commission_amount)
      }
    }
  })

  it('rejects amounts that are not whole, non-negative Rial', () => {
    assert.throws(() => vatFor(-1), RangeError)
    assert.throws(() => commissionFor('flat', 10.5), RangeError)
    assert.throws(() => commissionFor('tiered', Number.NaN), RangeError)
  })
})
