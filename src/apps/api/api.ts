import swagger from '@fastify/swagger'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { VERSION } from '../../version.ts'
import { silentLogger } from '../../logger.ts'
import { MemoryAlertStore } from './alert-store.ts'
import { installErrorHandlers } from './errors.ts'
import { alertRoutes, type AlertCounters } from './routes-alerts.ts'
import { dashboardRoutes } from './routes-dashboard.ts'
import { decisionRoutes } from './routes-decisions.ts'
import { liveRoutes, overviewTick } from './routes-live.ts'
import { opsRoutes } from './routes-ops.ts'
import { reportRoutes, runReportRoute } from './routes-reports.ts'
import { SseHub } from './sse.ts'
import type { ApiDeps, StatsProvider, StoredAlert } from './types.ts'

export const DEFAULT_BODY_LIMIT = 256 * 1024

/**
 * The HTTP API of `darooghe serve` (not listening: the caller calls `listen`, tests `inject`).
 * Every error is a JSON `{ error, message }`; request bodies are never coerced.
 */
export function buildApi(deps: ApiDeps): FastifyInstance {
  const logger = deps.logger ?? silentLogger
  const now = deps.now ?? Date.now
  const startedAtMs = now()
  const store = deps.alertStore ?? new MemoryAlertStore()
  const counters: AlertCounters = { received: 0, stored: 0, duplicates: 0 }

  const app = Fastify({
    // Widened so that the instance has Fastify's default type, which route modules take.
    loggerInstance: logger as FastifyBaseLogger,
    // Request lines would carry query strings; errors are logged by our handler, by path only.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Strict: "90" is not a risk score, and unknown alert fields are kept rather than stripped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true
  })

  const apiStats = () => ({
    alerts_received: counters.received,
    alerts_stored: counters.stored,
    alerts_duplicate: counters.duplicates,
    stream_clients: hub.clients,
    uptime_s: Math.round((now() - startedAtMs) / 1000)
  })
  const stats: StatsProvider = async () =>
    deps.stats ? { ...(await deps.stats()), api: apiStats() } : { api: apiStats() }
  const hub = new SseHub({
    heartbeatMs: deps.heartbeatMs ?? 15_000,
    statsIntervalMs: deps.statsIntervalMs ?? 5000,
    stats,
    logger
  })
  // The dashboard's stream: a compact overview every second and each alert the live view reads.
  const live = deps.live
  const liveHub =
    live &&
    new SseHub({
      heartbeatMs: deps.heartbeatMs ?? 15_000,
      statsIntervalMs: deps.liveIntervalMs ?? 1000,
      stats: () => overviewTick(live.overview()) as unknown as Record<string, unknown>,
      logger
    })
  const unsubscribe = live?.onAlert(a => liveHub?.publishAlert(a as StoredAlert))
  // Open streams would keep close() waiting forever.
  app.addHook('preClose', async () => {
    hub.close()
    liveHub?.close()
    unsubscribe?.()
  })

  // JSON only: a text/plain alert would otherwise reach the schema as a string.
  app.removeContentTypeParser('text/plain')
  installErrorHandlers(app, logger)
  // The OpenAPI description is generated from the schemas of the routes registered after this
  // plugin loads (the decision routes, in a scope of their own): /openapi.json.
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Darooghe decision API',
        version: VERSION,
        description:
          'Synchronous payment decisions through the fraud stream (see README, Decisions). Errors are JSON `{ error, message }`.'
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
    },
    hideUntagged: true
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  decisionRoutes(app, {
    ...(deps.decisions ? { service: deps.decisions } : {}),
    ...(deps.alertToken === undefined ? {} : { token: deps.alertToken }),
    now,
    registry: deps.metrics.registry
  })
  opsRoutes(app, {
    metrics: deps.metrics,
    health: deps.health ?? {},
    ...(deps.dependencies ? { dependencies: deps.dependencies } : {}),
    healthTimeoutMs: deps.healthTimeoutMs ?? 2000,
    stats,
    now,
    startedAtMs
  })
  alertRoutes(app, {
    store,
    hub,
    counters,
    ...(deps.alertToken === undefined ? {} : { token: deps.alertToken })
  })
  liveRoutes(app, {
    ...(live ? { live } : {}),
    ...(liveHub ? { hub: liveHub } : {}),
    ...(deps.topics ? { topics: deps.topics } : {})
  })
  if (deps.dashboard) dashboardRoutes(app, typeof deps.dashboard === 'string' ? deps.dashboard : undefined)
  if (deps.reports) {
    reportRoutes(app, { reportDir: deps.reports.dir })
    const run = deps.reports.run
    if (run) runReportRoute(app, run)
  }
  return app
}
