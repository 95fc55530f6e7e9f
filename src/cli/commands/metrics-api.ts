import type { FastifyInstance } from 'fastify'
import { buildApi, type HealthChecks } from '../../apps/api/index.ts'
import { DaroogheError } from '../../errors.ts'
import type { DependencyHealth } from '../../observability/dependencies.ts'
import type { Metrics } from '../../observability/metrics.ts'

/**
 * `/metrics` and `/health` of one worker (detector, dispatcher, windows, store) on
 * 127.0.0.1:`--metrics-port`; `dependencies` makes /health `degraded` while a call retries.
 */
export async function startMetricsApi(
  metrics: Metrics,
  portText: string,
  health: HealthChecks,
  dependencies?: DependencyHealth
): Promise<FastifyInstance> {
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new DaroogheError('USAGE', `--metrics-port must be an integer 0-65535 (got '${portText}')`)
  }
  const app = buildApi({ metrics, health, ...(dependencies ? { dependencies } : {}) })
  try {
    await app.listen({ host: '127.0.0.1', port })
  } catch (cause) {
    throw new DaroogheError(
      'IO',
      `cannot listen on 127.0.0.1:${port} for metrics (in use? choose --metrics-port)`,
      {
        cause
      }
    )
  }
  return app
}
