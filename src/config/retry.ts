import { DaroogheError } from '../errors.ts'
import type { RetryPolicy } from '../retry.ts'
import type { Env, Setting } from './setting.ts'
import { parseDuration } from './units.ts'

/** Backoff of every retried dependency call: 100 ms doubling to 5 s, with jitter. */
const BACKOFF = { initialMs: 100, maxMs: 5_000 } as const

/**
 * The retry policy from `--retry-for DURATION` (else DAROOGHE_RETRY_FOR): how long one
 * operation may keep failing before the command gives up; default unlimited.
 */
export function retryPolicyFrom(flag: unknown, env: Env): RetryPolicy {
  return retrySetting(flag, env).policy
}

export function retrySetting(flag: unknown, env: Env): { policy: RetryPolicy; setting: Setting } {
  const fromFlag = typeof flag === 'string' && flag !== ''
  const text = fromFlag ? flag : env.DAROOGHE_RETRY_FOR
  const label = fromFlag ? '--retry-for' : 'DAROOGHE_RETRY_FOR'
  const source = fromFlag ? 'flag --retry-for' : 'env DAROOGHE_RETRY_FOR'
  if (text === undefined || text === '' || /^(unlimited|forever|never|inf(inity)?)$/i.test(text.trim())) {
    return {
      policy: Object.freeze({ ...BACKOFF, retryForMs: Number.POSITIVE_INFINITY }),
      setting: { name: 'retry-for', value: 'unlimited', source: text ? source : 'default' }
    }
  }
  let ms = Number.NaN
  try {
    ms = parseDuration(text, label)
  } catch {
    // reported below, with the word 'unlimited'
  }
  if (!(ms > 0))
    throw new DaroogheError(
      'USAGE',
      `${label} must be a duration such as 30s, 10m or 1h, or 'unlimited' (got '${text}')`
    )
  return {
    policy: Object.freeze({ ...BACKOFF, retryForMs: ms }),
    setting: { name: 'retry-for', value: text.trim(), source }
  }
}
