import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { MemoryDecisionStore } from '../../src/adapters/memory/decision-store.ts'
import { buildApi, DecisionService } from '../../src/apps/api/index.ts'
import { CORRELATION_ID_HEADER, REPLY_TO_HEADER } from '../../src/domain/reply.ts'
import { silentLogger } from '../../src/logger.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import type { DecisionBus } from '../../src/ports/decision-bus.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'

/** A bus whose sends the test sees and whose replies the test writes. */
class FakeBus implements DecisionBus {
  readonly sent: OutRecord[] = []
  failNext = false
  #onReply: ((r: readonly LogRecord[]) => void) | null = null
  #offset = 0

  async start(onReply: (r: readonly LogRecord[]) => void): Promise<void> {
    this.#onReply = onReply
  }

  async send(record: OutRecord): Promise<void> {
    if (this.failNext) {
      this.failNext = false
      throw new Error('broker down')
    }
    this.sent.push(record)
  }

  /** Replies to the i-th sent record with `value`. */
  reply(i: number, value: string): void {
    const s = this.sent[i]!
    this.#onReply!([
      {
        topic: 'replies',
        partition: 0,
        offset: this.#offset++,
        key: null,
        value: Buffer.from(value),
        headers: s.headers!,
        timestamp: 0
      }
    ])
  }

  async close(): Promise<void> {}
}

async function setup(t: TestContext, over: { timeoutMs?: number; token?: string } = {}) {
  const bus = new FakeBus()
  const store = new MemoryDecisionStore()
  const service = new DecisionService({
    bus,
    store,
    topic: 'in',
    replyTopic: 'replies',
    timeoutMs: over.timeoutMs ?? 2_000,
    ttlMs: 60_000,
    log: silentLogger
  })
  await service.start()
  const app = buildApi({
    metrics: new Metrics({ defaultMetrics: false }),
    decisions: service,
    ...(over.token ? { alertToken: over.token } : {})
  })
  t.after(async () => {
    await app.close()
    await service.close()
  })
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/v1/decisions',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body)
    })
  const get = (id: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url: `/v1/decisions/${encodeURIComponent(id)}`, headers })
  return { app, bus, store, service, post, get }
}

const EVENT = { transaction_id: 'txn-1', customer_id: 'cust-9', amount: 1000 }
const decisionOf = (id: string): string =>
  `{"transaction_id":"${id}","customer_id":"cust-9","amount":1000,"event_time":"2026-01-01T00:00:00.000Z","decision":"approved","risk_score":3,"rules_fired":[],"trace":{},"processing_latency_ms":2,"processed_at":"2026-01-01T00:00:00.002Z","source":{"topic":"in","partition":1,"offset":7}}`

/** Lets the request reach the bus (the store claim is a promise). */
const sent = async (bus: FakeBus, n: number): Promise<void> => {
  for (let i = 0; i < 100 && bus.sent.length < n; i++) await new Promise(r => setImmediate(r))
  assert.equal(bus.sent.length, n)
}

test('POST /v1/decisions sends the body as it came, keyed by customer, with reply headers; answers the reply', async t => {
  const { app, bus, post } = await setup(t)
  const body = ' {"transaction_id":"txn-1", "customer_id":"cust-9","amount":1000}'
  const res = post(body)
  await sent(bus, 1)
  const rec = bus.sent[0]!
  assert.equal(rec.topic, 'in')
  assert.equal(rec.key, 'cust-9')
  assert.equal(Buffer.from(rec.value!).toString(), body)
  assert.equal(rec.headers![REPLY_TO_HEADER], 'replies')
  assert.match(rec.headers![CORRELATION_ID_HEADER]!, /^[0-9a-f-]{36}$/)
  assert.equal(typeof rec.timestamp, 'number')
  bus.reply(0, decisionOf('txn-1'))
  const r = await res
  assert.equal(r.statusCode, 200)
  assert.equal(r.body, decisionOf('txn-1'))
  assert.match(String(r.headers['content-type']), /application\/json/)
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  assert.match(metrics.body, /darooghe_decision_requests_total\{route="post",status="200"\} 1/)
  assert.match(metrics.body, /darooghe_decision_seconds_count\{route="post"\} 1/)
})

test('an error record is a 422 with the id, the codes and the issues', async t => {
  const { bus, post } = await setup(t)
  const res = post({ ...EVENT, amount: -1 })
  await sent(bus, 1)
  bus.reply(
    0,
    JSON.stringify({
      error_codes: ['ERR_AMOUNT'],
      issues: [{ code: 'ERR_AMOUNT', field: 'amount', message: 'amount must be >= 0' }],
      transaction_id: 'txn-1',
      customer_id: 'cust-9',
      original: {},
      original_base64: null,
      source: { topic: 'in', partition: 0, offset: 1 },
      ingestion_time: '',
      processed_at: ''
    })
  )
  const r = await res
  assert.equal(r.statusCode, 422)
  assert.deepEqual(r.json(), {
    error: 'invalid_event',
    message: 'the event is not valid (ERR_AMOUNT); it went to the error topic',
    transaction_id: 'txn-1',
    error_codes: ['ERR_AMOUNT'],
    issues: [{ code: 'ERR_AMOUNT', field: 'amount', message: 'amount must be >= 0' }]
  })
})

test('a late payment is decided (200, flagged late); a reply the detector never writes is a 502', async t => {
  const { bus, post } = await setup(t)
  const late = post(EVENT)
  await sent(bus, 1)
  const decided = JSON.stringify({
    ...EVENT,
    decision: 'approved',
    risk_score: 0,
    rules_fired: [],
    late: true,
    lateness_ms: 2_400_000
  })
  bus.reply(0, decided)
  const r = await late
  assert.equal(r.statusCode, 200)
  assert.equal(r.json().late, true)
  assert.equal(r.json().lateness_ms, 2_400_000)
  const odd = post({ ...EVENT, transaction_id: 'txn-2' })
  await sent(bus, 2)
  bus.reply(1, '[1,2,3]')
  assert.equal((await odd).statusCode, 502)
})

test('bodies the stream could not take are 4xx here and never sent', async t => {
  const { app, bus, post } = await setup(t)
  const cases: [unknown, number, string][] = [
    ['{"transaction_id":', 400, 'invalid_json'],
    ['', 400, 'invalid_json'],
    ['[1,2]', 400, 'not_an_object'],
    ['"txn"', 400, 'not_an_object'],
    ['null', 400, 'not_an_object'],
    [`{"a":${'['.repeat(40)}${']'.repeat(40)}}`, 400, 'too_complex'],
    [JSON.stringify({ ...EVENT, pad: 'x'.repeat(70_000) }), 413, 'payload_too_large']
  ]
  for (const [body, status, error] of cases) {
    const r = await post(body)
    assert.equal(r.statusCode, status, String(body).slice(0, 40))
    assert.equal(r.json().error, error)
  }
  const text = await app.inject({
    method: 'POST',
    url: '/v1/decisions',
    headers: { 'content-type': 'text/plain' },
    payload: JSON.stringify(EVENT)
  })
  assert.equal(text.statusCode, 415)
  assert.equal(text.json().error, 'unsupported_media_type')
  assert.equal(bus.sent.length, 0)
})

test('no reply within the timeout: 504 with the id; GET is 202 until the reply, then 200', async t => {
  const { bus, post, get } = await setup(t, { timeoutMs: 30 })
  const r = await post(EVENT)
  assert.equal(r.statusCode, 504)
  assert.equal(r.json().error, 'decision_timeout')
  assert.equal(r.json().transaction_id, 'txn-1')
  assert.equal(r.headers.location, '/v1/decisions/txn-1')
  const waiting = await get('txn-1')
  assert.equal(waiting.statusCode, 202)
  assert.deepEqual(waiting.json(), { transaction_id: 'txn-1', status: 'pending' })
  bus.reply(0, decisionOf('txn-1'))
  await new Promise(r => setImmediate(r))
  const later = await get('txn-1')
  assert.equal(later.statusCode, 200)
  assert.equal(later.body, decisionOf('txn-1'))
  assert.equal((await get('txn-unknown')).statusCode, 404)
})

test('idempotent by transaction_id: a retry joins the wait or gets the stored decision; another body is 409', async t => {
  const { bus, post } = await setup(t)
  const a = post(EVENT)
  const b = post(EVENT)
  await sent(bus, 1)
  await new Promise(r => setTimeout(r, 5))
  assert.equal(bus.sent.length, 1, 'sent once')
  bus.reply(0, decisionOf('txn-1'))
  const [ra, rb] = await Promise.all([a, b])
  assert.equal(ra.body, decisionOf('txn-1'))
  assert.equal(rb.body, decisionOf('txn-1'))
  // Whitespace differs: the same event.
  const again = await post(JSON.stringify(EVENT, null, 2))
  assert.equal(again.statusCode, 200)
  assert.equal(again.body, decisionOf('txn-1'))
  const other = await post({ ...EVENT, amount: 2 })
  assert.equal(other.statusCode, 409)
  assert.equal(other.json().error, 'idempotency_conflict')
  assert.equal(bus.sent.length, 1)
})

test('a duplicate reply is 409 already_decided; a failed send is 503 and a retry sends again', async t => {
  const { bus, post } = await setup(t)
  const dup = post(EVENT)
  await sent(bus, 1)
  bus.reply(0, '{"transaction_id":"txn-1","customer_id":"cust-9","duplicate":true}')
  const d = await dup
  assert.equal(d.statusCode, 409)
  assert.equal(d.json().error, 'already_decided')

  bus.failNext = true
  const failed = await post({ ...EVENT, transaction_id: 'txn-2' })
  assert.equal(failed.statusCode, 503)
  await new Promise(r => setImmediate(r))
  const retry = post({ ...EVENT, transaction_id: 'txn-2' })
  await sent(bus, 2)
  bus.reply(1, decisionOf('txn-2'))
  assert.equal((await retry).statusCode, 200)
})

test('an event without a readable transaction_id is sent and answered, without idempotency', async t => {
  const { bus, post } = await setup(t)
  const res = post({ customer_id: 5 })
  await sent(bus, 1)
  assert.equal(bus.sent[0]!.key, null)
  bus.reply(0, JSON.stringify({ error_codes: ['ERR_SCHEMA'], issues: [], transaction_id: null }))
  const r = await res
  assert.equal(r.statusCode, 422)
  assert.equal(r.json().transaction_id, null)
})

test('with a token, both routes need it', async t => {
  const { bus, post, get } = await setup(t, { token: 's3cret' })
  assert.equal((await post(EVENT)).statusCode, 401)
  assert.equal((await get('txn-1')).statusCode, 401)
  assert.equal(bus.sent.length, 0)
  const ok = post(EVENT, { authorization: 'Bearer s3cret' })
  await sent(bus, 1)
  bus.reply(0, decisionOf('txn-1'))
  assert.equal((await ok).statusCode, 200)
  assert.equal((await get('txn-1', { authorization: 'Bearer s3cret' })).statusCode, 200)
})

test('without a decision service the routes answer 503', async t => {
  const app = buildApi({ metrics: new Metrics({ defaultMetrics: false }) })
  t.after(() => app.close())
  const r = await app.inject({
    method: 'POST',
    url: '/v1/decisions',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(EVENT)
  })
  assert.equal(r.statusCode, 503)
  assert.equal(r.json().error, 'decisions_unavailable')
})

test('GET /openapi.json describes both routes from their schemas', async t => {
  const { app } = await setup(t)
  const r = await app.inject({ method: 'GET', url: '/openapi.json' })
  assert.equal(r.statusCode, 200)
  const doc = r.json()
  assert.equal(doc.openapi, '3.0.3')
  const post = doc.paths['/v1/decisions'].post
  assert.deepEqual(Object.keys(post.responses).sort(), [
    '200',
    '400',
    '401',
    '409',
    '413',
    '415',
    '422',
    '502',
    '503',
    '504'
  ])
  assert.ok(post.requestBody.content['application/json'].schema.properties.transaction_id)
  const get = doc.paths['/v1/decisions/{transaction_id}'].get
  assert.ok(['200', '202', '404'].every(s => s in get.responses))
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/v1/decisions', '/v1/decisions/{transaction_id}'])
  assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' })
})
