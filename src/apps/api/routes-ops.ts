import type { FastifyInstance } from 'fastify'
import type { Dependency, DependencyHealth, Retrying } from '../../observability/dependencies.ts'
import type { Metrics } from '../../observability/metrics.ts'
import type { HealthCheck, HealthChecks, StatsProvider } from './types.ts'

export interface OpsRoutesOptions {
  readonly metrics: Metrics
  readonly health: HealthChecks
  /** The process's own retries: a dependency retried against is down whatever its probe says. */
  readonly dependencies?: DependencyHealth
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
    // A probe can answer while the process's own calls fail (or the reverse, between two
    // probes): a dependency is down if either says so, and the retries say what is waiting.
    const retrying: Partial<Record<Dependency, readonly Retrying[]>> = {}
    for (const d of o.dependencies?.down() ?? []) {
      dependencies[d] = 'down'
      retrying[d] = o.dependencies!.state(d).retrying
    }
    const down = Object.keys(dependencies).filter(n => dependencies[n] === 'down')
    return reply.code(down.length === 0 ? 200 : 503).send({
      status: down.length === 0 ? 'ok' : 'degraded',
      uptime_s: Math.round((o.now() - o.startedAtMs) / 1000),
      dependencies,
      down,
      ...(Object.keys(retrying).length > 0 ? { retrying } : {})
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
