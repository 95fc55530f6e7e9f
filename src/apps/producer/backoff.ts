/** Capped exponential backoff with full jitter (AWS architecture blog's "full jitter"). */
export interface BackoffOptions {
  /** First delay cap, ms. Default 100. */
  readonly initialMs?: number
  /** Largest delay, ms. Default 5 000. */
  readonly maxMs?: number
}

/** Delay before retry `attempt` (1-based): uniform in [cap/2, cap], cap = min(max, initial·2^(attempt−1)). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random
): number {
  const initial = options.initialMs ?? 100
  const max = options.maxMs ?? 5_000
  const cap = Math.min(max, initial * 2 ** Math.max(0, attempt - 1))
  // Half fixed, half random: spreads retries of many producers without ever retrying at once.
  return Math.round(cap / 2 + random() * (cap / 2))
}
