import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { MemoryLog } from '../../src/adapters/memory/index.ts'
import { buildApi, type ApiDeps } from '../../src/apps/api/index.ts'
import { LiveView, MemoryTopicBrowser } from '../../src/apps/live/index.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import type { LogRecord } from '../../src/ports/log.ts'

function app(t: { after(fn: () => unknown): void }, over: Partial<ApiDeps> = {}) {
  const a = buildApi({ metrics: new Metrics({ defaultMetrics: false }), ...over })
  t.after(() => a.close())
  return a
}

let offset = 0
const rec = (topic: string, value: unknown): LogRecord => ({
  topic,
  partition: 0,
  offset: offset++,
  key: null,
  value: Buffer.from(JSON.stringify(value)),
  headers: {},
  timestamp: Date.now()
})

const alert = {
  alert_id: 'alert-tx-1',
  created_at: '2026-01-01T12:00:00.000Z',
  severity: 'critical',
  customer_id: 'cust_1',
  transaction_id: 'tx-1',
  risk_score: 97,
  rules_fired: ['velocity'],
  trace: { velocity: { fired: true, count: 7, threshold: 5 } },
  decision: 'fraud'
}

function fedView(): LiveView {
  const view = new LiveView()
  const now = Date.now()
  view.ingest([
    rec('darooghe.transactions.approved', {
      event_time: new Date(now - 50).toISOString(),
      decision: 'approved'
    }),
    rec('darooghe.transactions.fraud', { event_time: new Date(now - 50).toISOString(), decision: 'fraud' }),
    rec('darooghe.fraud_alerts', alert),
    rec('darooghe.analytics', {
      window_id: 'sliding_1m:2026-01-01T12:00:00.000Z',
      kind: 'sliding_1m',
      window_start: '2026-01-01T12:00:00.000Z',
      window_end: '2026-01-01T12:01:00.000Z',
      transactions: 2
    })
  ])
  return view
}

function browser(): MemoryTopicBrowser {
  const log = new MemoryLog({ defaultPartitions: 3 })
  log.append(
    Array.from({ length: 30 }, (_, i) => ({
      topic: 'darooghe.transactions',
      key: `c${i}`,
      value: `{"i":${i}}`
    }))
  )
  return new MemoryTopicBrowser(log, () => [])
}

test('GET /api/overview and /api/analytics serve the live view', async t => {
  const a = app(t, { live: fedView() })
  const overview = await a.inject({ method: 'GET', url: '/api/overview' })
  assert.equal(overview.statusCode, 200)
  const o = overview.json()
  assert.deepEqual(o.totals, { events: 2, approved: 1, fraud: 1, alerts: 1, windows: 1, skipped: 0 })
  assert.equal(o.series.throughput.length, 600)
  assert.equal(o.latency_60s.end_to_end.count, 2)
  const analytics = await a.inject({ method: 'GET', url: '/api/analytics' })
  assert.equal(analytics.statusCode, 200)
  assert.equal(analytics.json().sliding_1m[0].transactions, 2)
  assert.deepEqual(analytics.json().tumbling_5m, [])
})

test('GET /api/alerts/:id returns the alert with its trace; unknown ids are 404 JSON', async t => {
  const a = app(t, { live: fedView() })
  const one = await a.inject({ method: 'GET', url: '/api/alerts/alert-tx-1' })
  assert.equal(one.statusCode, 200)
  assert.deepEqual(one.json().trace, alert.trace)
  const missing = await a.inject({ method: 'GET', url: '/api/alerts/alert-nope' })
  assert.equal(missing.statusCode, 404)
  assert.equal(missing.json().error, 'not_found')
  const list = await a.inject({ method: 'GET', url: '/api/alerts?limit=5' })
  assert.deepEqual(
    list.json().alerts.map((x: { alert_id: string }) => x.alert_id),
    ['alert-tx-1']
  )
  for (const bad of ['0', '201', 'x', '-1', '1.5']) {
    const res = await a.inject({ method: 'GET', url: `/api/alerts?limit=${bad}` })
    assert.equal(res.statusCode, 400, bad)
    assert.equal(res.json().error, 'validation_failed')
  }
})

test('GET /api/topics lists partitions and end offsets', async t => {
  const a = app(t, { topics: browser() })
  const res = await a.inject({ method: 'GET', url: '/api/topics' })
  assert.equal(res.statusCode, 200)
  const [topic] = res.json().topics
  assert.equal(topic.name, 'darooghe.transactions')
  assert.equal(topic.partitions, 3)
  assert.equal(
    topic.end_offsets.reduce((s: number, n: number) => s + n, 0),
    30
  )
})

test('GET /api/topics/:name/messages is bounded and validated', async t => {
  const a = app(t, { topics: browser() })
  const res = await a.inject({ method: 'GET', url: '/api/topics/darooghe.transactions/messages?limit=4' })
  assert.equal(res.statusCode, 200)
  assert.equal(res.json().messages.length, 4)
  assert.deepEqual(Object.keys(res.json().messages[0]).sort(), [
    'headers',
    'key',
    'offset',
    'partition',
    'timestamp',
    'value'
  ])
  const byDefault = await a.inject({ method: 'GET', url: '/api/topics/darooghe.transactions/messages' })
  assert.equal(byDefault.json().messages.length, 20)
  const cases: [string, number][] = [
    ['/api/topics/darooghe.transactions/messages?limit=201', 400],
    ['/api/topics/darooghe.transactions/messages?limit=abc', 400],
    ['/api/topics/darooghe.transactions/messages?limit=0', 400],
    ['/api/topics/darooghe.transactions/messages?other=1', 400],
    ['/api/topics/no-such-topic/messages', 404],
    ['/api/topics/bad%20name!/messages', 400]
  ]
  for (const [url, status] of cases) {
    const r = await a.inject({ method: 'GET', url })
    assert.equal(r.statusCode, status, url)
    assert.equal(typeof r.json().message, 'string')
  }
})

test('/api/* routes without a source answer 503 JSON, not a crash', async t => {
  const a = app(t)
  for (const url of ['/api/overview', '/api/analytics', '/api/alerts/x', '/api/topics', '/api/live/stream']) {
    const res = await a.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 503, url)
    assert.equal(res.json().error, 'unavailable')
  }
})

test('the dashboard and chart.js are served from this package', async t => {
  const a = app(t, { dashboard: true })
  const index = await a.inject({ method: 'GET', url: '/' })
  assert.equal(index.statusCode, 200)
  assert.match(index.headers['content-type'] as string, /text\/html/)
  assert.match(index.body, /\/vendor\/chart\.js/)
  for (const file of ['app.js', 'styles.css']) {
    const res = await a.inject({ method: 'GET', url: `/dashboard/${file}` })
    assert.equal(res.statusCode, 200, file)
  }
  const chart = await a.inject({ method: 'GET', url: '/vendor/chart.js' })
  assert.equal(chart.statusCode, 200)
  assert.match(chart.body.slice(0, 400), /Chart\.js/)
  for (const url of ['/dashboard/..%2Fpackage.json', '/dashboard/secret.txt']) {
    const res = await a.inject({ method: 'GET', url })
    assert.equal(res.statusCode, 404, url)
  }
})

test('/api/live/stream pushes overview ticks and new alerts', async t => {
  const view = fedView()
  const a = app(t, { live: view, liveIntervalMs: 20 })
  await a.listen({ host: '127.0.0.1', port: 0 })
  const { port } = a.server.address() as AddressInfo
  const ctrl = new AbortController()
  t.after(() => ctrl.abort())
  const res = await fetch(`http://127.0.0.1:${port}/api/live/stream`, { signal: ctrl.signal })
  assert.equal(res.status, 200)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let pushed = false
  while (!/event: alert\ndata: .*alert-tx-2/.test(text) || (text.match(/event: stats/g) ?? []).length < 2) {
    const { done, value } = await reader.read()
    if (done) break
    text += decoder.decode(value, { stream: true })
    if (!pushed && text.includes('event: stats')) {
      pushed = true
      view.ingest([rec('darooghe.fraud_alerts', { ...alert, alert_id: 'alert-tx-2' })])
    }
  }
  const stats = /event: stats\ndata: (.*)\n/.exec(text)
  assert.ok(stats)
  const tick = JSON.parse(stats[1]!)
  assert.equal(tick.totals.events, 2)
  assert.equal(tick.series.throughput.length, 5)
  assert.match(text, /event: alert\ndata: .*alert-tx-2/)
})
