import assert from 'node:assert/strict'
import { after, before, describe, test, type TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { KafkaDecisionBus } from '../../src/adapters/kafka/decision-bus.ts'
import { RedisDecisionStore } from '../../src/adapters/redis/decision-store.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { buildApi, DecisionService } from '../../src/apps/api/index.ts'
import { createGenerator, type GeneratedRecord } from '../../src/apps/generator/index.ts'
import { silentLogger } from '../../src/logger.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { start, type Running } from '../helpers/cli.ts'
import {
  clearStateAfter,
  detectorArgs,
  makeTopics,
  parse,
  readTopics,
  type Json,
  type Topics
} from '../helpers/pipeline.ts'
import { createTopic, KAFKA_BROKERS, REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'
import { makeEvent } from '../topology/fixtures.ts'

interface Setup {
  topics: Topics
  replies: string
}

async function setupTopics(t: TestContext | { after: TestContext['after'] }): Promise<Setup> {
  const ctx = t as TestContext
  const [topics, replies] = await Promise.all([makeTopics(ctx, 3), createTopic(ctx, 'replies', 3)])
  return { topics, replies }
}

function startDetector(s: Setup, group: string): Running {
  return start([
    'detect',
    ...detectorArgs(s.topics, group),
    '--reply-topics',
    s.replies,
    '--batch-size',
    '1000',
    '--log-level',
    'warn'
  ])
}

/** Deletes the Redis keys under `prefix` when the test ends. */
function clearKeysAfter(t: { after: TestContext['after'] }, prefix: string): void {
  t.after(async () => {
    const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: prefix })
    await store.clear()
    await store.close()
  })
}

/** The records of the decision topics, by transaction id (every one of them: a list). */
async function decisionsOn(topics: Topics, done: (byId: Map<string, LogRecord[]>) => boolean) {
  const byId = (recs: LogRecord[]): Map<string, LogRecord[]> => {
    const m = new Map<string, LogRecord[]>()
    for (const r of recs) {
      const id = parse(r).transaction_id as string
      m.set(id, [...(m.get(id) ?? []), r])
    }
    return m
  }
  return byId(await readTopics([topics.approved, topics.fraud], recs => done(byId(recs))))
}

describe('POST /v1/decisions on Kafka and Redis, decided by a `darooghe detect` process', () => {
  let s: Setup
  let app: FastifyInstance
  const hooks: (() => Promise<void>)[] = []
  const cleanup = { after: (fn: () => Promise<void>) => void hooks.push(fn) } as unknown as TestContext

  before(async () => {
    s = await setupTopics(cleanup)
    const group = uniqueName('g-decide')
    clearStateAfter(cleanup, group)
    const prefix = `${uniqueName('decisions')}:`
    clearKeysAfter(cleanup, prefix)
    const detector = startDetector(s, group)
    hooks.push(async () => {
      detector.child.kill('SIGTERM')
      await detector.exited
    })
    const service = new DecisionService({
      bus: new KafkaDecisionBus({
        brokers: KAFKA_BROKERS,
        input: s.topics.input,
        replies: s.replies,
        log: silentLogger
      }),
      store: await RedisDecisionStore.connect({ url: REDIS_URL, keyPrefix: prefix }),
      topic: s.topics.input,
      replyTopic: s.replies,
      timeoutMs: 5_000,
      ttlMs: 600_000,
      log: silentLogger
    })
    await service.start()
    app = buildApi({ metrics: new Metrics({ defaultMetrics: false }), decisions: service })
    hooks.push(async () => {
      await app.close()
      await service.close()
    })
    // The detector has joined its group once an event is decided.
    await waitFor(async () => (await post(makeEvent({ t: Date.now() }))).statusCode === 200, {
      what: 'the detector to answer',
      timeoutMs: 60_000,
      intervalMs: 200
    })
  })
  after(async () => {
    for (const fn of hooks.reverse()) await fn().catch(() => {})
  })

  const post = (body: unknown) =>
    app.inject({
      method: 'POST',
      url: '/v1/decisions',
      headers: { 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body)
    })

  test('every generated scenario is answered with the record the stream wrote for it', async () => {
    const gen = createGenerator({
      start: Date.now() - 10_000,
      seed: 'decisions-api',
      customers: 200,
      rate: 40,
      count: 400,
      fraudRate: 0.25
    })
    const records: GeneratedRecord[] = []
    for (let r = gen.next(); r !== undefined; r = gen.next()) records.push(r)
    const answers: { r: (typeof records)[number]; res: Awaited<ReturnType<typeof post>> }[] = []
    // One at a time, in the generator's order: each customer's events in their order.
    for (const r of records) answers.push({ r, res: await post(r.raw) })
    const decidedIds = answers.filter(a => a.res.statusCode === 200).map(a => a.r.transactionId)
    const onTopics = await decisionsOn(s.topics, m => decidedIds.every(id => m.has(id)))
    const errors = await readTopics([s.topics.errors], recs =>
      answers
        .filter(a => a.res.statusCode === 422)
        .every(a => recs.some(rec => parse(rec).transaction_id === a.r.transactionId))
    )
    let fraud = 0
    for (const { r, res } of answers) {
      if (res.statusCode === 200) {
        const recs = onTopics.get(r.transactionId)!
        assert.equal(recs.length, 1, `${r.transactionId} decided once`)
        assert.equal(res.body, recs[0]!.value!.toString(), `${r.label} ${r.transactionId}: as on the topic`)
        if ((res.json() as Json).decision === 'fraud') fraud++
      } else if (res.statusCode === 422) {
        const body = res.json() as Json
        const rec = errors.find(e => parse(e).transaction_id === r.transactionId)
        assert.ok(rec, `${r.label} ${r.transactionId} is on the error topic`)
        assert.deepEqual(body.error_codes, parse(rec).error_codes)
        assert.deepEqual(body.issues, parse(rec).issues)
        assert.equal(body.transaction_id, r.transactionId)
      } else {
        assert.equal(res.statusCode, 400, `${r.label}: ${res.body}`)
        assert.equal(r.label, 'malformed_json', 'only an unparseable body is refused by the API')
      }
    }
    assert.ok(fraud > 0, 'the scenarios were flagged')
    assert.ok(
      answers.some(a => a.res.statusCode === 422),
      'invalid events answered 422'
    )
  })

  test('a retry returns the same decision and the detector evaluates it once; another body is 409', async () => {
    const event = makeEvent({ t: Date.now(), customer_id: uniqueName('cust') })
    const [a, b] = await Promise.all([post(event), post(event)])
    const c = await post(event)
    assert.equal(a.statusCode, 200)
    assert.equal(b.body, a.body)
    assert.equal(c.body, a.body)
    const other = await post({ ...event, amount: event.amount + 1 })
    assert.equal(other.statusCode, 409)
    assert.equal(other.json().error, 'idempotency_conflict')
    const get = await app.inject({ method: 'GET', url: `/v1/decisions/${event.transaction_id}` })
    assert.equal(get.body, a.body)
    // Give a second evaluation every chance to show up before counting.
    const marker = await post(makeEvent({ t: Date.now(), customer_id: event.customer_id }))
    const onTopics = await decisionsOn(s.topics, m => m.has(marker.json().transaction_id))
    assert.equal(onTopics.get(event.transaction_id)?.length, 1)
  })

  test('an invalid event is 422 with its id, codes and issues, and is on the error topic', async () => {
    const event = { ...makeEvent({ t: Date.now() }), amount: -10 }
    const res = await post(event)
    assert.equal(res.statusCode, 422)
    const body = res.json() as Json
    assert.equal(body.error, 'invalid_event')
    assert.equal(body.transaction_id, event.transaction_id)
    assert.ok((body.error_codes as string[]).includes('ERR_AMOUNT'))
    const errors = await readTopics([s.topics.errors], recs =>
      recs.some(r => parse(r).transaction_id === event.transaction_id)
    )
    const rec = errors.find(r => parse(r).transaction_id === event.transaction_id)!
    assert.deepEqual(body.issues, parse(rec).issues)
  })

  test('200 concurrent requests for one customer: each decided once, in the order of the partition', async () => {
    const customer = uniqueName('cust-burst')
    const t0 = Date.now()
    const events = Array.from({ length: 200 }, () => makeEvent({ t: t0, customer_id: customer }))
    const answers = await Promise.all(events.map(e => post(e)))
    assert.deepEqual(
      answers.map(a => a.statusCode),
      events.map(() => 200)
    )
    const decided = answers
      .map(
        a =>
          a.json() as {
            source: { partition: number; offset: number }
            trace: { velocity: { count: number } }
          }
      )
      .sort((x, y) => x.source.offset - y.source.offset)
    assert.equal(new Set(decided.map(d => d.source.partition)).size, 1, 'one partition')
    // Same event time: each one counts every transaction decided before it (up to the
    // retention cap of the customer's recent transactions), so state followed offset order.
    const counts = decided.map(d => d.trace.velocity.count)
    const cap = Math.max(...counts)
    assert.ok(cap >= 50, `the count grew (${cap})`)
    counts.forEach((c, i) => assert.equal(c, Math.min(i + 1, cap), `decision ${i} counted ${c}`))
    const ids = new Set(events.map(e => e.transaction_id))
    const onTopics = await decisionsOn(s.topics, m => [...ids].every(id => m.has(id)))
    for (const id of ids) assert.equal(onTopics.get(id)!.length, 1, `${id} decided once`)
  })
})

test('darooghe serve: 504 while the detector is stopped, then GET returns the decision once it runs', async t => {
  const s = await setupTopics(t)
  const group = uniqueName('g-late-detector')
  clearStateAfter(t, group)
  const prefix = `${uniqueName('decisions')}:`
  clearKeysAfter(t, prefix)
  const serve = start([
    'serve',
    '--port',
    '0',
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--redis',
    REDIS_URL,
    '--key-prefix',
    prefix,
    '--topic',
    s.topics.input,
    '--reply-topic',
    s.replies,
    '--decision-timeout',
    '500ms',
    '--live-group',
    uniqueName('g-live'),
    '--log-level',
    'warn'
  ])
  t.after(async () => {
    serve.child.kill('SIGTERM')
    await serve.exited
  })
  const base = await waitFor(() => /darooghe serve: (http:\/\/[\d.:]+)/.exec(serve.stdout)?.[1], {
    what: `serve to listen (${serve.stderr})`
  })
  // 404 (not 503) once the reply reader is positioned.
  await waitFor(async () => (await fetch(`${base}/v1/decisions/none`)).status === 404, {
    what: 'the decision API to start',
    intervalMs: 100
  })
  const event = makeEvent({ t: Date.now() })
  const post = await fetch(`${base}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event)
  })
  assert.equal(post.status, 504)
  assert.equal(((await post.json()) as Json).transaction_id, event.transaction_id)
  assert.equal(post.headers.get('location'), `/v1/decisions/${event.transaction_id}`)
  const url = `${base}/v1/decisions/${event.transaction_id}`
  assert.equal((await fetch(url)).status, 202)

  const detector = startDetector(s, group)
  t.after(async () => {
    detector.child.kill('SIGTERM')
    await detector.exited
  })
  const body = await waitFor(
    async () => {
      const res = await fetch(url)
      return res.status === 200 ? await res.text() : null
    },
    { what: 'the decision after the detector started', timeoutMs: 60_000, intervalMs: 200 }
  )
  const onTopics = await decisionsOn(s.topics, m => m.has(event.transaction_id))
  assert.equal(body, onTopics.get(event.transaction_id)![0]!.value!.toString())
  // The OpenAPI description is served too.
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> }
  assert.ok('/v1/decisions' in doc.paths)
})
