import { Counter, Histogram, type Registry } from 'prom-client'
import { METRIC_PREFIX } from './metrics.ts'

const REQUESTS = `${METRIC_PREFIX}decision_requests_total`
const SECONDS = `${METRIC_PREFIX}decision_seconds`
/** 1 ms to 5 s: the decision API answers in milliseconds, or at its timeout. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/**
 * `darooghe_decision_requests_total{route, status}` and `darooghe_decision_seconds{route}` (from
 * the request to its answer) on `registry`, created once per registry. Returns what counts one
 * answered request.
 */
export function decisionMetrics(
  registry: Registry
): (route: 'post' | 'get', status: number, seconds: number) => void {
  const requests =
    (registry.getSingleMetric(REQUESTS) as Counter<'route' | 'status'> | undefined) ??
    new Counter({
      name: REQUESTS,
      help: 'Requests to /v1/decisions answered, by route (post, get) and HTTP status.',
      labelNames: ['route', 'status'] as const,
      registers: [registry]
    })
  const seconds =
    (registry.getSingleMetric(SECONDS) as Histogram<'route'> | undefined) ??
    new Histogram({
      name: SECONDS,
      help: 'Time from a /v1/decisions request to its answer, by route.',
      labelNames: ['route'] as const,
      buckets: BUCKETS,
      registers: [registry]
    })
  return (route, status, s) => {
    requests.inc({ route, status: String(status) })
    seconds.observe({ route }, s)
  }
}
