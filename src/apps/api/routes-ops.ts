import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../../observability/metrics.ts'
import type { HealthCheck, HealthChecks, StatsProvider } from './types.ts'

export interface OpsRoutesOptions {
  readonly metrics: Metrics
  readonly health: HealthChecks
  readonly healthTimeoutMs: number
  readonly stats: StatsProvider
  readonly now: () => number
  readonly startedAtMs: number
}

export type DependencyState = 'up' | 'down'

export function opsRoutes(app: FastifyInstance, o: OpsRoutesOptions): void {
  app.get('/health', async (_req, reply) => {
    const names = Object.keys(o.health) as (keyof HealthChecks)[]
    const states = await Promise.all(
      names.map(async name => [name, await probe(o.health[name], o.healthTimeoutMs)] as const)
    )
    const dependencies = Object.fromEntries(states) as Record<string, DependencyState>
    const down = states.filter(([, s]) => s === 'down').map(([n]) => n)
    return reply.code(down.length === 0 ? 200 : 503).send({
      status: down.length === 0 ? 'ok' : 'degraded',
      uptime_s: Math.round((o.now() - o.startedAtMs) / 1000),
      dependencies,
      down
    })
  })

  app.get('/metrics', async (_req, reply) => {
    const text = await o.metrics.text()
    return reply.type(o.metrics.contentType).send(text)
  })

  app.get('/api/stats', async () => o.stats())
}

/** Up only when the check resolves true within the timeout; a throw or a hang is down. */
export async function probe(check: HealthCheck | undefined, timeoutMs: number): Promise<DependencyState> {
  if (!check) return 'down'
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<false>(resolve => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return (await Promise.race([check(), timeout])) === true ? 'up' : 'down'
  } catch {
    return 'down'
  } finally {
    clearTimeout(timer)
  }
}
