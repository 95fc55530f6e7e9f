import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { KafkaLogAdmin, KafkaLogConsumer, KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { Dispatcher, FileAlertSink, HttpAlertSink } from '../../src/apps/dispatcher/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { Alert } from '../../src/ports/alert-sink.ts'
import { start } from '../helpers/cli.ts'
import { clearStateAfter, parse, readTopics } from '../helpers/pipeline.ts'
import { createTopic, KAFKA_BROKERS, REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'

function alert(i: number): Alert {
  return {
    alert_id: `alert-${i}`,
    created_at: new Date(1_700_000_000_000 + i).toISOString(),
    severity: 'high',
    customer_id: `cust_${i % 7}`,
    transaction_id: `tx-${i}`,
    risk_score: 90,
    rules_fired: ['velocity'],
    trace: { velocity: { fired: true, count: 6, window_s: 120 } },
    decision: 'fraud'
  }
}

/** A receiver that answers 500 to the first `failFirst` requests and to ids in `alwaysFail`. */
async function receiver(t: TestContext, failFirst: number, alwaysFail = new Set<string>()) {
  const received: string[] = []
  let requests = 0
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', c => (body += c))
    req.on('end', () => {
      requests++
      const id = (JSON.parse(body) as Alert).alert_id
      if (requests <= failFirst || alwaysFail.has(id)) {
        res.writeHead(500).end()
        return
      }
      received.push(id)
      res.writeHead(201).end()
    })
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>(r => server.close(() => r())))
  const port = (server.address() as { port: number }).port
  return { url: `http://127.0.0.1:${port}/alerts`, received, requests: () => requests }
}

async function runUntilCommitted(
  t: TestContext,
  topic: string,
  group: string,
  dispatcher: Dispatcher
): Promise<void> {
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: group, topics: [topic] })
  const running = consumer.run({
    onBatch: async recs => dispatcher.dispatchBatch(recs.map(r => JSON.parse(r.value!.toString()) as Alert))
  })
  let failure: unknown = null
  running.catch(e => (failure = e))
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  t.after(() => admin.close())
  const ends = await admin.endOffsets(topic)
  await waitFor(
    async () => {
      if (failure) throw failure
      return (await admin.committedOffsets(group, topic)).every((c, i) => Math.max(c, 0) === ends[i])
    },
    {
      what: 'the dispatcher to commit every alert',
      timeoutMs: 60_000,
      intervalMs: 100
    }
  )
  await consumer.close()
  await running
}

async function produceAlerts(t: TestContext, n: number): Promise<string> {
  const topic = await createTopic(t, 'alerts', 3)
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  await producer.send(
    Array.from({ length: n }, (_, i) => ({ topic, key: `cust_${i % 7}`, value: JSON.stringify(alert(i)) }))
  )
  await producer.close()
  return topic
}

test('dispatcher: a receiver failing the first deliveries still gets every alert exactly once, also across restarts', async t => {
  const topic = await produceAlerts(t, 20)
  const http = await receiver(t, 3)
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-dispatch-'))
  const dedupe = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${uniqueName('dispatch')}:` })
  t.after(async () => {
    await dedupe.clear()
    await dedupe.close()
  })
  const make = () =>
    new Dispatcher({
      sinks: [new HttpAlertSink({ name: 'http', url: http.url }), new FileAlertSink(join(dir, 'alerts.log'))],
      dedupe,
      log: silentLogger,
      maxAttempts: 5,
      backoff: { initialMs: 5, maxMs: 20 }
    })
  const first = make()
  await runUntilCommitted(t, topic, uniqueName('g-dispatch'), first)
  assert.equal(http.received.length, 20, 'twenty successful deliveries')
  assert.equal(new Set(http.received).size, 20, 'each alert once')
  assert.equal(first.counts.bySink.http!.delivered, 20)
  assert.ok(first.counts.retries >= 3, 'the failed deliveries were retried')
  const lines = readFileSync(join(dir, 'alerts.log'), 'utf8').trim().split('\n')
  assert.equal(lines.length, 20)

  // A new group re-reads the topic from the start: the dedupe store knows every delivery.
  const second = make()
  await runUntilCommitted(t, topic, uniqueName('g-dispatch-again'), second)
  assert.equal(http.received.length, 20, 'nothing delivered twice after a restart')
  assert.equal(second.counts.bySink.http!.duplicate, 20)
  assert.equal(readFileSync(join(dir, 'alerts.log'), 'utf8').trim().split('\n').length, 20)
})

test('dispatcher: an alert that keeps failing is dead-lettered after the attempt limit', async t => {
  const topic = await produceAlerts(t, 5)
  const http = await receiver(t, 0, new Set(['alert-2']))
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-dead-'))
  const dedupe = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `${uniqueName('dead')}:` })
  t.after(async () => {
    await dedupe.clear()
    await dedupe.close()
  })
  const dispatcher = new Dispatcher({
    sinks: [new HttpAlertSink({ name: 'http', url: http.url })],
    dedupe,
    log: silentLogger,
    maxAttempts: 3,
    backoff: { initialMs: 5, maxMs: 20 },
    deadLetterPath: join(dir, 'dead.ndjson')
  })
  await runUntilCommitted(t, topic, uniqueName('g-dead'), dispatcher)
  assert.deepEqual([...http.received].sort(), ['alert-0', 'alert-1', 'alert-3', 'alert-4'])
  const dead = readFileSync(join(dir, 'dead.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map(l => JSON.parse(l) as { sink: string; attempts: number; alert: Alert })
  assert.equal(dead.length, 1)
  assert.equal(dead[0]!.alert.alert_id, 'alert-2')
  assert.equal(dead[0]!.attempts, 3)
  assert.equal(http.requests(), 4 + 3, 'three attempts for the failing alert, one for each other')
})

test('dispatcher: alerts.log survives SIGKILL mid-run with whole lines and every alert exactly once', async t => {
  const total = 60_000
  const topic = await produceAlerts(t, total)
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-kill-'))
  const file = join(dir, 'alerts.log')
  const group = uniqueName('g-kill')
  clearStateAfter(t, group)
  const args = ['dispatch', '--file', file, '--brokers', KAFKA_BROKERS.join(','), '--topic', topic]
  args.push('--group', group, '--redis', REDIS_URL, '--log-level', 'error')
  // Counted from the size: reading a growing 20 MB file every few ms would starve the dispatcher.
  const lineCount = (): number => (existsSync(file) ? Math.floor(statSync(file).size / lineBytes) : 0)
  const lineBytes = JSON.stringify(alert(99_999)).length + 1
  for (const atLeast of [3_000, 20_000]) {
    const run = start(args)
    t.after(() => run.child.kill('SIGKILL'))
    await waitFor(() => lineCount() >= atLeast, {
      what: `${atLeast} alerts in the file`,
      timeoutMs: 60_000,
      intervalMs: 5
    })
    run.child.kill('SIGKILL')
    await run.exited
    assert.ok(lineCount() < total, 'killed before the end, so the test means something')
  }
  const summaries = await createTopic(t, 'summary', 1)
  const last = start([...args, '--summary-topic', summaries])
  t.after(() => last.child.kill('SIGKILL'))
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  t.after(() => admin.close())
  const ends = await admin.endOffsets(topic)
  const caughtUp = async () =>
    (await admin.committedOffsets(group, topic)).every((c, i) => Math.max(c, 0) === ends[i])
  await waitFor(caughtUp, {
    what: 'every alert dispatched after two SIGKILLs',
    timeoutMs: 120_000,
    intervalMs: 200
  })
  last.child.kill('SIGINT')
  assert.equal(await last.exited, 0, last.stderr.slice(-2000))
  const text = readFileSync(file, 'utf8')
  assert.ok(text.endsWith('\n'), 'no torn last line')
  const ids = text
    .trimEnd()
    .split('\n')
    .map(l => (JSON.parse(l) as Alert).alert_id)
  assert.equal(ids.length, total, 'no alert written twice')
  assert.equal(new Set(ids).size, total, 'every alert written')
  // The final summary was published on stop, with the counts of the last run.
  const [summary] = await readTopics([summaries], recs => recs.length > 0)
  const counts = parse(summary!) as { group: string; bySink: { file: { delivered: number } } }
  assert.equal(counts.group, group)
  assert.ok(counts.bySink.file.delivered > 0 && counts.bySink.file.delivered < total)
})
