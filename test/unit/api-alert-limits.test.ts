import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MongoClient } from 'mongodb'
import { MongoAlertStore } from '../../src/adapters/mongo/index.ts'
import { buildApi, type ApiDeps } from '../../src/apps/api/index.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import { hostileValues, prototypeIsClean } from '../helpers/hostile.ts'

const ALERT = {
  alert_id: 'alert-tx-1',
  created_at: '2026-01-01T12:00:00.000Z',
  severity: 'high',
  customer_id: 'cust-1',
  transaction_id: 'tx-1',
  risk_score: 90,
  rules_fired: ['velocity'],
  trace: { velocity: { fired: true, count: 6 } },
  decision: 'fraud'
}

function app(t: { after(fn: () => unknown): void }, over: Partial<ApiDeps> = {}) {
  const a = buildApi({ metrics: new Metrics({ defaultMetrics: false }), ...over })
  t.after(() => a.close())
  return a
}

const post = (payload: Buffer) => ({
  method: 'POST' as const,
  url: '/alerts',
  headers: { 'content-type': 'application/json' },
  payload
})

test('POST /alerts: each hostile body is a 413 or 400 with one line, and the API keeps serving', async t => {
  const a = app(t)
  const expected: Record<string, [number, string]> = {
    'nested 5,000 deep': [400, 'too_complex'],
    'a 100,000-character string': [413, 'payload_too_large'],
    'invalid UTF-8': [400, 'invalid_json'],
    'an empty value': [400, 'invalid_json'],
    ['__proto__']: [400, 'invalid_json'],
    '__proto__ in a valid record': [400, 'invalid_json'],
    'a JSON array': [400, 'validation_failed'],
    'a number': [400, 'validation_failed'],
    'truncated JSON': [400, 'invalid_json'],
    'a duplicate key': [400, 'invalid_json'],
    NaN: [400, 'invalid_json'],
    Infinity: [400, 'invalid_json'],
    '-Infinity': [400, 'invalid_json']
  }
  for (const h of hostileValues(ALERT)) {
    if (h.value === null) continue
    const res = await a.inject(post(h.value))
    const body = res.json() as { error: string; message: string }
    assert.deepEqual([res.statusCode, body.error], expected[h.name], `${h.name}: ${res.body}`)
    assert.ok(body.message.length > 0 && !body.message.includes('\n'), body.message)
  }
  const deep = await a.inject(post(hostileValues(ALERT)[0]!.value!))
  assert.equal(deep.json().message, 'the body exceeds --max-depth 32: nesting reaches 33 at byte 160')
  const ok = await a.inject(post(Buffer.from(JSON.stringify(ALERT))))
  assert.equal(ok.statusCode, 201, ok.body)
  assert.equal((await a.inject({ method: 'GET', url: '/alerts' })).json().alerts.length, 1)
  assert.ok(prototypeIsClean())
})

test('GET /alerts on MongoDB: a hand-made cursor is a 400, whatever it holds', async t => {
  // The cursor is decoded before any query: no server needed (and none reached).
  const client = new MongoClient('mongodb://127.0.0.1:9/none', { serverSelectionTimeoutMS: 200 })
  t.after(() => client.close())
  const a = app(t, { alertStore: new MongoAlertStore(client.db('none')) })
  const cursors = [
    '['.repeat(90),
    '[1e400,"x"]',
    '[8640000000000001,"x"]',
    '{"__proto__":{"polluted":1}}',
    '[1,"x",3]',
    '[1,["x"]]'
  ].map(c => Buffer.from(c).toString('base64url'))
  for (const cursor of [...cursors, 'not base64 at all!']) {
    const res = await a.inject({ method: 'GET', url: `/alerts?cursor=${encodeURIComponent(cursor)}` })
    assert.equal(res.statusCode, 400, `${cursor}: ${res.body}`)
    assert.ok(['bad_request', 'validation_failed'].includes(res.json().error), res.body)
  }
  assert.ok(prototypeIsClean())
})
