import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { METRIC_NAMES } from '../../src/observability/metrics.ts'

const dashboard = JSON.parse(
  readFileSync(new URL('../../deploy/grafana/dashboards/darooghe.json', import.meta.url), 'utf8')
) as {
  panels: { title: string; targets: { expr: string }[] }[]
}

test('the Grafana dashboard references only metric names that exist', () => {
  const known = new Set<string>(METRIC_NAMES)
  const used = new Set<string>()
  for (const p of dashboard.panels) {
    for (const t of p.targets) {
      for (const m of t.expr.matchAll(/\bdarooghe_[a-z_]+/g)) {
        // Histograms expose _bucket, _sum and _count series under the histogram's name.
        const name = m[0].replace(/_(bucket|sum|count)$/, '')
        assert.ok(known.has(name), `panel '${p.title}' uses unknown metric ${m[0]}`)
        used.add(name)
      }
    }
  }
  for (const needed of [
    'darooghe_events_total',
    'darooghe_alerts_raised_total',
    'darooghe_processing_latency_seconds',
    'darooghe_consumer_lag'
  ]) {
    assert.ok(used.has(needed), `the dashboard shows ${needed}`)
  }
})

test('the compose file and the local services script use the same ports', () => {
  const compose = readFileSync(new URL('../../deploy/docker-compose.yml', import.meta.url), 'utf8')
  const script = readFileSync(new URL('../../scripts/services.sh', import.meta.url), 'utf8')
  for (const [port, env] of [
    ['9092', 'KAFKA_PORT'],
    ['6379', 'REDIS_PORT'],
    ['27017', 'MONGO_PORT']
  ] as const) {
    assert.match(compose, new RegExp(`"${port}:${port}"`), `compose publishes ${port}`)
    assert.match(
      script,
      new RegExp(`${env}=\\$\\{${env}:-${port}\\}`),
      `services.sh defaults ${env} to ${port}`
    )
  }
})
