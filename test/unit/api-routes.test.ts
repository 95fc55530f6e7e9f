import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApi, type ApiDeps } from '../../src/apps/api/index.ts'
import { Metrics } from '../../src/observability/metrics.ts'

function app(t: { after(fn: () => unknown): void }, over: Partial<ApiDeps> = {}) {
  const a = buildApi({ metrics: new Metrics({ defaultMetrics: false }), ...over })
  t.after(() => a.close())
  return a
}

const up = async () => true

test('GET /health is 200 with every dependency up', async t => {
  let now = 1_000_000
  const a = app(t, { health: { kafka: up, redis: up, mongo: up }, now: () => now })
  now += 42_000
  const res = await a.inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), {
    status: 'ok',
    uptime_s: 42,
    dependencies: { kafka: 'up', redis: 'up', mongo: 'up' },
    down: []
  })
})

test('GET /health without checks is plain liveness', async t => {
  const res = await app(t).inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json().dependencies, {})
})

test('GET /health is 503 naming what is down: false, a throw or a hang', async t => {
  const a = app(t, {
    healthTimeoutMs: 50,
    health: {
      kafka: async () => false,
      redis: async () => {
        throw new Error('ECONNREFUSED')
      },
      mongo: () => new Promise<boolean>(() => {})
    }
  })
  const res = await a.inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 503)
  const body = res.json()
  assert.equal(body.status, 'degraded')
  assert.deepEqual(body.dependencies, { kafka: 'down', redis: 'down', mongo: 'down' })
  assert.deepEqual(body.down, ['kafka', 'redis', 'mongo'])
  const partly = app(t, { health: { kafka: up, redis: async () => false } })
  const p = await partly.inject({ method: 'GET', url: '/health' })
  assert.equal(p.statusCode, 503)
  assert.deepEqual(p.json().down, ['redis'])
})

test('GET /api/stats merges the injected provider with the API counters', async t => {
  const a = app(t, { stats: async () => ({ events_total: 1200, events_per_s: 40.5, fraud_rate: 0.012 }) })
  const res = await a.inject({ method: 'GET', url: '/api/stats' })
  assert.equal(res.statusCode, 200)
  const body = res.json()
  assert.equal(body.events_total, 1200)
  assert.equal(body.events_per_s, 40.5)
  assert.equal(body.api.alerts_received, 0)
  assert.equal(body.api.stream_clients, 0)
})

test('a failing stats provider is a JSON 500 without internals', async t => {
  const a = app(t, {
    stats: async () => {
      throw new Error('mongo password=hunter2 rejected')
    }
  })
  const res = await a.inject({ method: 'GET', url: '/api/stats' })
  assert.equal(res.statusCode, 500)
  assert.deepEqual(res.json(), { error: 'internal', message: 'internal error' })
})

test('unknown routes and methods are JSON 404s', async t => {
  const a = app(t)
  for (const [method, url] of [
    ['GET', '/nope'],
    ['GET', '/alerts/123/../../etc'],
    ['DELETE', '/alerts'],
    ['POST', '/health']
  ] as const) {
    const res = await a.inject({ method, url })
    assert.equal(res.statusCode, 404, `${method} ${url}`)
    assert.match(String(res.headers['content-type']), /application\/json/)
    assert.equal(res.json().error, 'not_found')
  }
})

test('the 404 message never echoes a query string', async t => {
  const res = await app(t).inject({ method: 'GET', url: '/x?token=abc' })
  assert.equal(res.statusCode, 404)
  assert.ok(!res.body.includes('abc'))
})
