import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApi } from '../../src/apps/api/index.ts'
import { METRIC_NAMES, Metrics, type BatchMetricsInput } from '../../src/observability/metrics.ts'
import { SlidingMax } from '../../src/observability/sliding-max.ts'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
interface Family {
  help?: string
  type?: string
  samples: Sample[]
}

/** A strict parser of the Prometheus text format 0.0.4: throws on any line it does not understand. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const family = (name: string): Family => {
    let f = families.get(name)
    if (!f) families.set(name, (f = { samples: [] }))
    return f
  }
  const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      assert.match(name, metricName, `line ${i + 1}: bad metric name`)
      const f = family(name)
      if (kind === 'HELP') {
        assert.equal(f.help, undefined, `line ${i + 1}: second HELP for ${name}`)
        f.help = rest
      } else {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest), `line ${i + 1}`)
        assert.equal(f.samples.length, 0, `line ${i + 1}: TYPE after samples of ${name}`)
        f.type = rest
      }
      continue
    }
    if (line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line)
    assert.ok(m, `line ${i + 1}: not a sample: ${line}`)
    const [, name, rawLabels, rawValue] = m as unknown as [string, string, string | undefined, string]
    const labels: Record<string, string> = {}
    if (rawLabels) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy
      let consumed = 0
      for (let lm = re.exec(rawLabels); lm; lm = re.exec(rawLabels)) {
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1')
        consumed = re.lastIndex
      }
      assert.equal(consumed, rawLabels.length, `line ${i + 1}: bad labels ${rawLabels}`)
    }
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes "Nan").
    const lower = rawValue.toLowerCase()
    const value = /^[+]?inf$/.test(lower) ? Infinity : lower === '-inf' ? -Infinity : Number(rawValue)
    assert.ok(lower === 'nan' || !Number.isNaN(value), `line ${i + 1}: bad value ${rawValue}`)
    const base = name.replace(/_(bucket|sum|count|created)$/, '')
    const owner = families.has(name) ? name : families.has(base) ? base : name
    family(owner).samples.push({ name, labels, value })
  }
  return families
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const base = name.replace(/_(bucket|sum|count)$/, '')
  const f = families.get(name) ?? families.get(base)
  const s = f?.samples.find(
    x => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)
  )
  return s?.value ?? 0
}

const batch = (over: Partial<BatchMetricsInput> = {}): BatchMetricsInput => ({
  approved: 8,
  fraud: 2,
  alerts: 2,
  errors: 1,
  late: 1,
  duplicatesSkipped: 3,
  errorCodes: { ERR_AMOUNT: 1 },
  ruleHits: { velocity: 2, geo_impossible: 1 },
  latencyMaxMs: 40,
  latencySumMs: 200,
  records: 15,
  ...over
})

test('every metric has HELP and TYPE and the exported names are all exposed', async () => {
  const metrics = new Metrics()
  metrics.observeBatch(batch())
  metrics.setConsumerLag('darooghe.transactions', 0, 7)
  metrics.observeDelivery('file', 'delivered')
  metrics.observeDelivery('http', 'failed')
  const families = parsePrometheus(await metrics.text())
  for (const name of METRIC_NAMES) {
    const f = families.get(name)
    assert.ok(f, `${name} exposed`)
    assert.ok(f.help && f.help.length > 0, `${name} has HELP`)
    assert.ok(f.type, `${name} has TYPE`)
  }
  assert.equal(families.get('darooghe_processing_latency_seconds')?.type, 'histogram')
  assert.equal(families.get('darooghe_processing_latency_max_seconds')?.type, 'gauge')
  assert.equal(families.get('darooghe_events_total')?.type, 'counter')
  // Default process metrics, under our prefix.
  assert.ok(families.has('darooghe_process_cpu_user_seconds_total'))
  for (const name of families.keys()) assert.ok(name.startsWith('darooghe_'), name)
})

test('observeBatch moves the right series', async () => {
  const metrics = new Metrics({ defaultMetrics: false })
  metrics.observeBatch(batch())
  metrics.observeBatch(
    batch({ approved: 5, fraud: 0, alerts: 0, ruleHits: {}, latencySumMs: 5, latencyMaxMs: 2 })
  )
  const f = parsePrometheus(await metrics.text())
  assert.equal(value(f, 'darooghe_events_total', { outcome: 'approved' }), 13)
  assert.equal(value(f, 'darooghe_events_total', { outcome: 'fraud' }), 2)
  assert.equal(value(f, 'darooghe_events_total', { outcome: 'error' }), 2)
  assert.equal(value(f, 'darooghe_events_total', { outcome: 'late' }), 2)
  assert.equal(value(f, 'darooghe_events_total', { outcome: 'duplicate' }), 6)
  assert.equal(value(f, 'darooghe_alerts_raised_total'), 2)
  assert.equal(value(f, 'darooghe_validation_errors_total', { code: 'ERR_AMOUNT' }), 2)
  assert.equal(value(f, 'darooghe_rule_hits_total', { rule: 'velocity' }), 2)
  assert.equal(value(f, 'darooghe_rule_hits_total', { rule: 'geo_impossible' }), 1)
  assert.equal(value(f, 'darooghe_batches_total'), 2)
  assert.equal(value(f, 'darooghe_batch_size_count'), 2)
  assert.equal(value(f, 'darooghe_batch_size_sum'), 30)
  // 10 decisions at a mean of 20 ms, then 5 at 1 ms: count and sum are exact.
  assert.equal(value(f, 'darooghe_processing_latency_seconds_count'), 15)
  assert.ok(Math.abs(value(f, 'darooghe_processing_latency_seconds_sum') - 0.205) < 1e-9)
  assert.equal(value(f, 'darooghe_processing_latency_seconds_bucket', { le: '0.001' }), 5)
  assert.equal(value(f, 'darooghe_processing_latency_seconds_bucket', { le: '0.025' }), 15)
  assert.equal(value(f, 'darooghe_processing_latency_max_seconds'), 0.04)
})

test('the max gauge forgets values older than the window', async () => {
  let now = 1_000_000
  const metrics = new Metrics({ defaultMetrics: false, now: () => now })
  metrics.observeBatch(batch({ latencyMaxMs: 900 }))
  now += 30_000
  metrics.observeBatch(batch({ latencyMaxMs: 50 }))
  assert.equal(value(parsePrometheus(await metrics.text()), 'darooghe_processing_latency_max_seconds'), 0.9)
  now += 40_000
  assert.equal(value(parsePrometheus(await metrics.text()), 'darooghe_processing_latency_max_seconds'), 0.05)
  now += 70_000
  assert.equal(value(parsePrometheus(await metrics.text()), 'darooghe_processing_latency_max_seconds'), 0)
})

test('SlidingMax keeps the max of the window', () => {
  const m = new SlidingMax(60_000)
  m.add(0, 5)
  m.add(10_000, 3)
  assert.equal(m.get(10_000), 5)
  assert.equal(m.get(59_000), 5)
  assert.equal(m.get(66_000), 3)
  assert.equal(m.get(200_000), 0)
})

test('two instances do not share a registry', async () => {
  const a = new Metrics({ defaultMetrics: false })
  const b = new Metrics({ defaultMetrics: false })
  a.observeBatch(batch())
  assert.equal(value(parsePrometheus(await b.text()), 'darooghe_batches_total'), 0)
})

test('GET /metrics serves the registry in the text format', async t => {
  const metrics = new Metrics()
  const app = buildApi({ metrics })
  t.after(() => app.close())
  metrics.observeBatch(batch())
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/)
  const f = parsePrometheus(res.body)
  assert.equal(value(f, 'darooghe_events_total', { outcome: 'fraud' }), 2)
  assert.equal(f.get('darooghe_rule_hits_total')?.type, 'counter')
})
