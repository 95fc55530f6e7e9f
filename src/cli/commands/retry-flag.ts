import type { Logger } from '../../logger.ts'
import { DependencyHealth, type Dependency, type DependencySink } from '../../observability/dependencies.ts'
import type { Resilience, RetryPolicy } from '../../retry.ts'

export { retryPolicyFrom } from '../../config/retry.ts'

/**
 * The retry policy (the configuration's, from --retry-for), the logger and a health tracker of
 * the dependencies `uses` (mirrored to `sink`, the command's metrics, when it has some): what
 * the adapters and apps of one command share, so /health and the metrics see every retry.
 */
export function resilienceFrom(
  policy: RetryPolicy,
  log: Logger,
  uses: readonly Dependency[],
  sink?: DependencySink
): Resilience & { readonly health: DependencyHealth } {
  const health = new DependencyHealth({ ...(sink ? { sink } : {}), uses })
  return Object.freeze({ policy, log, health })
}
