import { DaroogheError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import { DependencyHealth, type Dependency, type DependencySink } from '../../observability/dependencies.ts'
import type { Resilience, RetryPolicy } from '../../retry.ts'
import { parseDuration } from './generate.ts'

/** Backoff of every retried dependency call: 100 ms doubling to 5 s, with jitter. */
const BACKOFF = { initialMs: 100, maxMs: 5_000 } as const

/**
 * The retry policy from `--retry-for DURATION` (else DAROOGHE_RETRY_FOR), parsed once: how long
 * one operation may keep failing before the command gives up; default unlimited. Each command
 * (detect, dispatch, windows, store, serve, produce) registers the flag with its own help text.
 */
export function retryPolicyFrom(
  flag: unknown,
  env: Readonly<Record<string, string | undefined>>
): RetryPolicy {
  const fromFlag = typeof flag === 'string' && flag !== ''
  const text = fromFlag ? flag : env.DAROOGHE_RETRY_FOR
  if (text === undefined || text === '' || /^(unlimited|forever|never|inf(inity)?)$/i.test(text.trim())) {
    return Object.freeze({ ...BACKOFF, retryForMs: Number.POSITIVE_INFINITY })
  }
  try {
    return Object.freeze({
      ...BACKOFF,
      retryForMs: parseDuration(text, fromFlag ? '--retry-for' : 'DAROOGHE_RETRY_FOR')
    })
  } catch (cause) {
    throw new DaroogheError(
      'USAGE',
      `${fromFlag ? '--retry-for' : 'DAROOGHE_RETRY_FOR'} must be a duration such as 30s, 10m or 1h, or 'unlimited' (got '${text}')`,
      { cause }
    )
  }
}

/**
 * The retry policy, the logger and a health tracker of the dependencies `uses` (mirrored to
 * `sink`, the command's metrics, when it has some): what the adapters and apps of one command
 * share, so /health and the metrics see every retry.
 */
export function resilienceFrom(
  flags: { retryFor?: unknown },
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
  uses: readonly Dependency[],
  sink?: DependencySink
): Resilience & { readonly health: DependencyHealth } {
  const policy = retryPolicyFrom(flags.retryFor, env)
  const health = new DependencyHealth({ ...(sink ? { sink } : {}), uses })
  return Object.freeze({ policy, log, health })
}
