/** Inputs of the risk score; all are plain numbers so the score is a pure, testable function. */
export interface ScoreInput {
  /** amount / customer average; NaN (or <= 1) contributes nothing. */
  readonly ratio: number
  /** Transactions in the frequency window (this one included) and the velocity threshold. */
  readonly windowCount: number
  readonly windowMax: number
  /** Decisions seen at the merchant and how many were fraud. */
  readonly merchantCount: number
  readonly merchantFraud: number
  /** Sum of the weights of the fired rules, and how many of them are fraud rules. */
  readonly weightSum: number
  readonly fraudHits: number
}

/** Smallest score of an event on which a fraud rule fired: above the default alert threshold (80). */
export const FRAUD_FLOOR = 85

/**
 * Risk score 0–100:
 *
 *   amount    = 35 × clamp(log10(ratio), 0, 1)            0 at or below the average, 35 at 10×
 *   frequency = 20 × clamp((count − 1) / max, 0, 1)        0 for a lone event, 20 past the threshold
 *   merchant  = 15 × clamp(fraud / (decisions + 10) / 0.2, 0, 1)
 *                                                         smoothed fraud ratio, 15 at 20 % fraud
 *   rules     = Σ weight of the fired rules                (default 25 per fraud rule, 10 otherwise)
 *   score     = round(clamp(amount + frequency + merchant + rules, 0, 100))
 *   and, when k >= 1 fraud rules fired, score >= min(100, FRAUD_FLOOR + 5 × (k − 1)).
 *
 * Without rule hits the score is at most 70, so an alert on score alone (> 80) needs rules; a
 * fraud rule always lifts the score above the alert threshold. The score is monotonic in rule
 * hits: weights are >= 0 and the floor only rises with k.
 */
export function riskScore(s: ScoreInput): number {
  const amount = s.ratio > 1 ? 35 * clamp01(Math.log10(s.ratio)) : 0
  const frequency =
    s.windowMax > 0 ? 20 * clamp01((s.windowCount - 1) / s.windowMax) : s.windowCount > 1 ? 20 : 0
  const merchant = 15 * clamp01(s.merchantFraud / (s.merchantCount + 10) / 0.2)
  let score = amount + frequency + merchant + s.weightSum
  if (s.fraudHits > 0) score = Math.max(score, FRAUD_FLOOR + 5 * (s.fraudHits - 1))
  if (!(score > 0)) return 0
  return score >= 100 ? 100 : Math.round(score)
}

function clamp01(x: number): number {
  return x > 1 ? 1 : x > 0 ? x : 0
}

export type Severity = 'critical' | 'high' | 'medium'

/** Severity of an alert: critical from 95, high from 85, medium below (a high score without a fraud rule). */
export function severityOf(score: number): Severity {
  return score >= 95 ? 'critical' : score >= 85 ? 'high' : 'medium'
}
