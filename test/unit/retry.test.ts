import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { TimeoutError } from '@platformatic/kafka'
import { kafkaError, kafkaFatalReason, timedOut } from '../../src/adapters/kafka/errors.ts'
import { buildApi } from '../../src/apps/api/index.ts'
import { retryPolicyFrom } from '../../src/cli/commands/retry-flag.ts'
import { DaroogheError, redactSecrets } from '../../src/errors.ts'
import { DependencyHealth } from '../../src/observability/dependencies.ts'
import { Metrics } from '../../src/observability/metrics.ts'
import { dependencyOf, Outage, withRetry } from '../../src/retry.ts'

/** A logger whose lines the test reads. */
function capture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = []
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l))
        done()
      }
    })
  )
  return { log, lines }
}

const down = () => new DaroogheError('KAFKA', 'broker down', { cause: new Error('connect ECONNREFUSED') })

test('withRetry retries a retriable failure until it succeeds, marks the dependency down meanwhile', async () => {
  const { log, lines } = capture()
  const metrics = new Metrics({ defaultMetrics: false })
  const health = new DependencyHealth({ sink: metrics, uses: ['kafka'] })
  let calls = 0
  let downWhileFailing = false
  const result = await withRetry(
    'fetch',
    async () => {
      calls++
      if (calls > 1) downWhileFailing ||= health.isDown('kafka')
      if (calls < 4) throw down()
      return 'ok'
    },
    log,
    { initialMs: 1, maxMs: 2, health }
  )
  assert.equal(result, 'ok')
  assert.equal(calls, 4)
  assert.ok(downWhileFailing, 'kafka was down while the call failed')
  assert.equal(health.isDown('kafka'), false, 'and up again after')
  assert.equal(lines.filter(l => l.level === 40).length, 3, 'one warning per retry')
  assert.match(lines.at(-1)!.msg, /fetch: recovered/)
  const text = await metrics.text()
  assert.match(text, /darooghe_dependency_up\{dependency="kafka"\} 1/)
  assert.match(text, /darooghe_dependency_retries_total\{dependency="kafka"\} 3/)
})

test('warnings are rate-limited: every attempt up to five, then one every 30 s', async () => {
  const { log, lines } = capture()
  const outage = new Outage('commit', log, { initialMs: 0, maxMs: 0 })
  for (let i = 0; i < 50; i++) await outage.failed(down())
  const warnings = lines.filter(l => l.level === 40)
  assert.equal(warnings.length, 5, 'fifty failures within a second log five lines')
  assert.match(warnings[4]!.msg, /further retries logged every 30 s/)
})

test('--retry-for: once an operation has failed that long it gives up with one line naming the dependency and the fix', async () => {
  const { log } = capture()
  const started = Date.now()
  await assert.rejects(
    withRetry(
      'commit offsets',
      async () => {
        throw down()
      },
      log,
      { initialMs: 5, maxMs: 10, retryForMs: 60 }
    ),
    (e: unknown) => {
      assert.ok(e instanceof DaroogheError)
      assert.equal(e.retriable, false)
      assert.match(e.message, /commit offsets: kafka unavailable for \d+ s, longer than --retry-for allows/)
      assert.match(e.message, /--brokers/)
      return true
    }
  )
  assert.ok(Date.now() - started < 2_000)
})

test('errors no retry passes are thrown at once', async () => {
  const { log } = capture()
  let calls = 0
  const fatal = new DaroogheError('KAFKA_FATAL', 'Kafka refused: TOPIC_AUTHORIZATION_FAILED')
  await assert.rejects(
    withRetry(
      'produce',
      async () => {
        calls++
        throw fatal
      },
      log,
      { initialMs: 1 }
    ),
    fatal
  )
  assert.equal(calls, 1)
})

test('Kafka errors: authorization, credentials and bad records are fatal; outages and moves are not', () => {
  const protocol = (apiCode: number) => Object.assign(new Error('x'), { apiCode })
  const multiple = (...errors: unknown[]) => Object.assign(new AggregateError(errors, 'failed 6 times'))
  assert.match(kafkaFatalReason(multiple(protocol(29)))!, /TOPIC_AUTHORIZATION_FAILED/)
  assert.match(kafkaFatalReason(protocol(30))!, /GROUP_AUTHORIZATION_FAILED/)
  assert.match(kafkaFatalReason(protocol(10))!, /MESSAGE_TOO_LARGE/)
  assert.match(
    kafkaFatalReason(Object.assign(new Error('bad'), { code: 'PLT_KFK_AUTHENTICATION' }))!,
    /credentials/
  )
  for (const code of [5, 6, 7, 14, 15, 16, 22, 25, 27])
    assert.equal(kafkaFatalReason(protocol(code)), null, `code ${code}`)
  assert.equal(
    kafkaFatalReason(Object.assign(new Error('timeout'), { code: 'PLT_KFK_NETWORK', canRetry: false })),
    null
  )
  assert.equal(kafkaError('commit', multiple(protocol(16))).retriable, true)
  const fatal = kafkaError('create topic', protocol(29))
  assert.equal(fatal.kind, 'KAFKA_FATAL')
  assert.match(fatal.message, /^create topic: Kafka refused: TOPIC_AUTHORIZATION_FAILED: grant/)
})

test('failures are blamed on the dependency they come from', () => {
  assert.equal(dependencyOf(down()), 'kafka')
  assert.equal(dependencyOf(new DaroogheError('REDIS', 'x')), 'redis')
  assert.equal(dependencyOf(new DaroogheError('MONGO', 'x')), 'mongo')
  assert.equal(dependencyOf(new DaroogheError('STATE_CONFLICT', 'x')), undefined)
  assert.equal(dependencyOf(Object.assign(new Error('x'), { code: 'PLT_KFK_NETWORK' })), 'kafka')
})

test('--retry-for is parsed once: a duration, or unlimited by default', () => {
  assert.equal(retryPolicyFrom(undefined, {}).retryForMs, Infinity)
  assert.equal(retryPolicyFrom('unlimited', {}).retryForMs, Infinity)
  assert.equal(retryPolicyFrom('30s', {}).retryForMs, 30_000)
  assert.equal(retryPolicyFrom('10m', {}).retryForMs, 600_000)
  assert.equal(retryPolicyFrom(undefined, { DAROOGHE_RETRY_FOR: '2h' }).retryForMs, 7_200_000)
  assert.throws(
    () => retryPolicyFrom('soon', {}),
    /--retry-for must be a duration such as 30s, 10m or 1h, or 'unlimited' \(got 'soon'\)/
  )
  assert.throws(() => retryPolicyFrom(undefined, { DAROOGHE_RETRY_FOR: '-1s' }), /DAROOGHE_RETRY_FOR must be/)
})

test('/health is degraded while a dependency is retried, naming it, the operation and the error, secrets hidden', async t => {
  const health = new DependencyHealth({ uses: ['redis'] })
  const app = buildApi({ metrics: new Metrics({ defaultMetrics: false }), health: {}, dependencies: health })
  t.after(() => app.close())
  const ok = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(ok.statusCode, 200)
  const token = health.failed(
    'redis',
    'write the window state',
    redactSecrets('cannot reach redis://u:hunter2@h:1')
  )
  const res = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 503)
  const body = res.json() as {
    status: string
    down: string[]
    retrying: Record<string, { operation: string; error: string }[]>
  }
  assert.equal(body.status, 'degraded')
  assert.deepEqual(body.down, ['redis'])
  assert.equal(body.retrying.redis![0]!.operation, 'write the window state')
  assert.ok(!res.body.includes('hunter2'))
  health.recovered(token)
  assert.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200)
})

test('a timed-out request or an unreadable response anywhere in a chain drops the connection', () => {
  assert.equal(timedOut(new TimeoutError('Request timed out')), true)
  assert.equal(
    timedOut(
      new AggregateError([new Error('x'), new TimeoutError('Request timed out')], 'commit failed 6 times')
    ),
    true
  )
  assert.equal(
    timedOut(new DaroogheError('KAFKA', 'produce failed', { cause: new TimeoutError('Request timed out') })),
    true
  )
  assert.equal(
    timedOut(new DaroogheError('KAFKA', 'a Kafka response is malformed (a varint runs past its end)')),
    true
  )
  assert.equal(
    timedOut(new DaroogheError('KAFKA', 'broker down', { cause: new Error('connect ECONNREFUSED') })),
    false
  )
})
