import { Counter, type Registry } from 'prom-client'
import { METRIC_PREFIX } from './metrics.ts'

const NAME = `${METRIC_PREFIX}records_rejected_total`

/**
 * `darooghe_records_rejected_total{reader, kind}` on `registry` (created once per registry):
 * records a reader (dispatch, windows, store, live) could not use, by why (a closed set of
 * kinds, see src/apps/guard). Returns the function that counts one.
 */
export function recordsRejectedCounter(registry: Registry): (reader: string, kind: string) => void {
  const counter =
    (registry.getSingleMetric(NAME) as Counter<'reader' | 'kind'> | undefined) ??
    new Counter({
      name: NAME,
      help: 'Records a reader rejected (not JSON, beyond a record limit, not the shape of its topic, failed), by reader and kind.',
      labelNames: ['reader', 'kind'] as const,
      registers: [registry]
    })
  return (reader, kind) => counter.inc({ reader, kind })
}
