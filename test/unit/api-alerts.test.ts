import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApi, MemoryAlertStore, type ApiDeps, type StoredAlert } from '../../src/apps/api/index.ts'
import { Metrics } from '../../src/observability/metrics.ts'

const TOKEN = 's3cret-token'

function alert(n: number, over: Partial<StoredAlert> = {}): StoredAlert {
  return {
    alert_id: `alert-tx-${n}`,
    created_at: new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString(),
    severity: 'high',
    customer_id: `cust-${n % 3}`,
    transaction_id: `tx-${n}`,
    merchant_id: 'm-1',
    amount: 120000,
    risk_score: 90,
    rules_fired: n % 2 === 0 ? ['velocity'] : ['geo_impossible', 'amount_spike'],
    trace: { velocity: { fired: n % 2 === 0, count: 6, window_s: 120 } },
    decision: 'fraud',
    ...over
  }
}

function app(t: { after(fn: () => unknown): void }, over: Partial<ApiDeps> = {}) {
  const a = buildApi({ metrics: new Metrics({ defaultMetrics: false }), ...over })
  t.after(() => a.close())
  return a
}

const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url: '/alerts',
  headers: { 'content-type': 'application/json', ...headers },
  payload: typeof body === 'string' ? body : JSON.stringify(body)
})

test('POST /alerts stores an alert, dedupes by alert_id and keeps extra fields', async t => {
  const a = app(t)
  const first = await a.inject(post(alert(1)))
  assert.equal(first.statusCode, 201)
  assert.deepEqual(first.json(), { alert_id: 'alert-tx-1', stored: true, duplicate: false })
  const again = await a.inject(post(alert(1)))
  assert.equal(again.statusCode, 200)
  assert.equal(again.json().duplicate, true)
  const list = (await a.inject({ method: 'GET', url: '/alerts' })).json()
  assert.equal(list.alerts.length, 1)
  assert.equal(list.alerts[0].merchant_id, 'm-1')
  assert.equal(list.next_cursor, null)
  const stats = (await a.inject({ method: 'GET', url: '/api/stats' })).json()
  assert.deepEqual(
    { r: stats.api.alerts_received, s: stats.api.alerts_stored, d: stats.api.alerts_duplicate },
    { r: 2, s: 1, d: 1 }
  )
})

test('POST /alerts rejects schema violations with a JSON 400', async t => {
  const a = app(t)
  const bad: unknown[] = [
    { ...alert(1), alert_id: undefined },
    { ...alert(1), risk_score: '90' },
    { ...alert(1), risk_score: 101 },
    { ...alert(1), severity: 'apocalyptic' },
    { ...alert(1), created_at: 'yesterday' },
    { ...alert(1), rules_fired: 'velocity' },
    { ...alert(1), decision: 'maybe' },
    { ...alert(1), trace: null },
    [alert(1)],
    42,
    null
  ]
  for (const body of bad) {
    const res = await a.inject(post(body))
    assert.equal(res.statusCode, 400, JSON.stringify(body))
    const json = res.json()
    assert.equal(json.error, 'validation_failed', JSON.stringify(json))
    assert.equal(typeof json.message, 'string')
  }
  assert.equal((await a.inject({ method: 'GET', url: '/alerts' })).json().alerts.length, 0)
})

test('malformed, empty, wrongly typed and oversize bodies get JSON 4xx', async t => {
  const a = app(t, { bodyLimit: 4096 })
  const malformed = await a.inject(post('{"alert_id": "x",'))
  assert.equal(malformed.statusCode, 400)
  assert.equal(malformed.json().error, 'invalid_json')
  const empty = await a.inject(post(''))
  assert.equal(empty.statusCode, 400)
  assert.equal(empty.json().error, 'invalid_json')
  const text = await a.inject({
    method: 'POST',
    url: '/alerts',
    headers: { 'content-type': 'text/plain' },
    payload: 'hi'
  })
  assert.equal(text.statusCode, 415)
  assert.equal(text.json().error, 'unsupported_media_type')
  const big = await a.inject(post({ ...alert(1), padding: 'x'.repeat(5000) }))
  assert.equal(big.statusCode, 413)
  assert.equal(big.json().error, 'payload_too_large')
  // Still serving after all that.
  assert.equal((await a.inject(post(alert(2)))).statusCode, 201)
})

test('POST /alerts takes bodies within the record limits (64 KiB, 32 deep, 8 KiB strings, 1,000 fields)', async t => {
  const a = app(t)
  const res = await a.inject(post({ ...alert(1), padding: 'x'.repeat(300 * 1024) }))
  assert.equal(res.statusCode, 413)
  assert.equal((await a.inject(post({ ...alert(1), padding: 'x'.repeat(70 * 1024) }))).statusCode, 413)
  // 60 KiB in strings of 6 KiB: within every limit.
  const padding = Array.from({ length: 10 }, () => 'x'.repeat(6 * 1024))
  assert.equal((await a.inject(post({ ...alert(1), padding }))).statusCode, 201)
})

test('a bearer token, when configured, is required and compared exactly', async t => {
  const logs: string[] = []
  const { pino } = await import('pino')
  const logger = pino({ level: 'trace' }, { write: (s: string) => void logs.push(s) })
  const a = app(t, { alertToken: TOKEN, logger })
  const missing = await a.inject(post(alert(1)))
  assert.equal(missing.statusCode, 401)
  assert.deepEqual(missing.json(), { error: 'unauthorized', message: 'missing or wrong bearer token' })
  for (const h of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN, `Basic ${TOKEN}`, 'Bearer ']) {
    const res = await a.inject(post(alert(1), { authorization: h }))
    assert.equal(res.statusCode, 401, h)
  }
  // 401 comes before validation: no schema hints without a token.
  assert.equal((await a.inject(post({ nope: 1 }))).statusCode, 401)
  assert.equal((await a.inject(post(alert(1), { authorization: `Bearer ${TOKEN}` }))).statusCode, 201)
  // Reading needs no token (the dashboard), and the token never reaches a log line.
  assert.equal((await a.inject({ method: 'GET', url: '/alerts' })).statusCode, 200)
  assert.ok(!logs.join('\n').includes(TOKEN.slice(1)))
})

test('GET /alerts filters by customer, rule and time, newest first', async t => {
  const a = app(t)
  for (let n = 0; n < 12; n++) assert.equal((await a.inject(post(alert(n)))).statusCode, 201)
  const get = async (qs: string) => {
    const res = await a.inject({ method: 'GET', url: `/alerts?${qs}` })
    assert.equal(res.statusCode, 200, res.body)
    return (res.json().alerts as StoredAlert[]).map(x => x.transaction_id)
  }
  assert.deepEqual(await get('customer_id=cust-1'), ['tx-10', 'tx-7', 'tx-4', 'tx-1'])
  assert.deepEqual(await get('rule=velocity&customer_id=cust-0'), ['tx-6', 'tx-0'])
  assert.deepEqual(await get('from=2026-01-01T12:00:03Z&to=2026-01-01T12:00:06Z'), ['tx-5', 'tx-4', 'tx-3'])
  const fromMs = Date.UTC(2026, 0, 1, 12, 0, 10)
  assert.deepEqual(await get(`from=${fromMs}`), ['tx-11', 'tx-10'])
  assert.deepEqual(await get('rule=nope'), [])
})

test('GET /alerts pages with a cursor until the end', async t => {
  const a = app(t)
  for (let n = 0; n < 7; n++) await a.inject(post(alert(n)))
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const url: string = `/alerts?limit=3${cursor ? `&cursor=${cursor}` : ''}`
    const body = (await a.inject({ method: 'GET', url })).json()
    seen.push(...body.alerts.map((x: StoredAlert) => x.transaction_id))
    cursor = body.next_cursor
    pages++
  } while (cursor)
  assert.equal(pages, 3)
  assert.deepEqual(seen, ['tx-6', 'tx-5', 'tx-4', 'tx-3', 'tx-2', 'tx-1', 'tx-0'])
  // An exact multiple: the last full page says there is nothing more.
  const six = app(t)
  for (let n = 0; n < 6; n++) await six.inject(post(alert(n)))
  const p1 = (await six.inject({ method: 'GET', url: '/alerts?limit=3' })).json()
  const p2 = (await six.inject({ method: 'GET', url: `/alerts?limit=3&cursor=${p1.next_cursor}` })).json()
  assert.equal(p2.alerts.length, 3)
  assert.equal(p2.next_cursor, null)
})

test('GET /alerts rejects bad query parameters with a JSON 400', async t => {
  const a = app(t)
  for (const qs of [
    'limit=0',
    'limit=501',
    'limit=abc',
    'from=soon',
    'cursor=garbage',
    'page=2',
    'rule=a&rule=b'
  ]) {
    const res = await a.inject({ method: 'GET', url: `/alerts?${qs}` })
    assert.equal(res.statusCode, 400, qs)
    assert.equal(typeof res.json().error, 'string', qs)
  }
})

test('the memory store is a bounded ring: old alerts and their ids are evicted', async () => {
  const store = new MemoryAlertStore(3)
  for (let n = 0; n < 5; n++) assert.equal(await store.add(alert(n)), true)
  assert.equal(await store.size(), 3)
  const page = await store.query({ limit: 10 })
  assert.deepEqual(
    page.alerts.map(x => x.transaction_id),
    ['tx-4', 'tx-3', 'tx-2']
  )
  assert.equal(await store.add(alert(4)), false)
  assert.equal(await store.add(alert(0)), true)
  assert.throws(() => new MemoryAlertStore(0), { code: 'DAROOGHE_ERR_CONFIG' })
})
