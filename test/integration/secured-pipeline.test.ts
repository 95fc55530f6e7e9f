/**
 * The whole pipeline on secured services, every command a process of its own that is given
 * nothing but the ready client files `scripts/services.sh` writes: Kafka over SASL_SSL
 * (SCRAM-SHA-512, the local CA) and Redis over TLS with an ACL user.
 *   produce → detect → dispatch (alerts file), store (MongoDB), serve (POST /v1/decisions)
 * The decisions must be those of a file-mode run of the same events, and neither password
 * may show in any output or in /health.
 */
import assert from 'node:assert/strict'
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { MongoClient } from 'mongodb'
import { KafkaLogAdmin, KafkaLogConsumer } from '../../src/adapters/kafka/index.ts'
import type { KafkaConnection } from '../../src/adapters/kafka/options.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { kafkaConfigFrom } from '../../src/config/connections.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { runCli, start, type Running } from '../helpers/cli.ts'
import { assertSameOutcome, fileModeOutcome, outcomeOf } from '../helpers/interop.ts'
import { makeEvent } from '../topology/fixtures.ts'
import { KAFKA_SASL_SSL_CLIENT_FILE, MONGO_URL, redisTls, uniqueName, waitFor } from '../helpers/services.ts'

type Json = Record<string, unknown>

function kafkaSecret(file: string): string {
  const m = /^sasl\.password=(.*)$/m.exec(readFileSync(file, 'utf8'))
  if (!m) throw new Error(`no sasl.password in ${file}`)
  return m[1]!.trim()
}

async function readAll(conn: KafkaConnection, topics: string[], done: (r: LogRecord[]) => boolean) {
  const seen: LogRecord[] = []
  const consumer = new KafkaLogConsumer({ ...conn, groupId: uniqueName('g-read'), topics })
  const running = consumer.run({ onBatch: async recs => void seen.push(...recs) })
  try {
    await waitFor(() => done(seen), { what: `records on ${topics.join(', ')}`, timeoutMs: 90_000 })
  } finally {
    await consumer.close()
    await running.catch(() => {})
  }
  return seen
}

function stopAll(t: TestContext, procs: Running[]): void {
  t.after(async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM')
    await Promise.all(procs.map(p => p.exited))
  })
}

test('the whole pipeline over Kafka SASL_SSL and Redis TLS, each command given only the client files', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-secured-'))
  // The services' client file as is, plus one line: produced batches are lz4-compressed.
  const clientFile = join(dir, 'client.properties')
  copyFileSync(KAFKA_SASL_SSL_CLIENT_FILE, clientFile)
  appendFileSync(clientFile, '\ncompression.type=lz4\n')
  const kafkaPassword = kafkaSecret(clientFile)
  const tls = redisTls()
  const redis = { ...tls, password: decodeURIComponent(new URL(tls.url).password) }
  const conn = kafkaConfigFrom({ kafkaConfig: clientFile }, {}, () => {}).connection
  assert.ok(conn.sasl && conn.tls, 'the client file says SASL_SSL')

  const names = Object.fromEntries(
    ['in', 'approved', 'fraud', 'alerts', 'errors', 'late', 'analytics', 'replies'].map(n => [
      n,
      uniqueName(`t-sec-${n}`)
    ])
  ) as Record<'in' | 'approved' | 'fraud' | 'alerts' | 'errors' | 'late' | 'analytics' | 'replies', string>
  const admin = new KafkaLogAdmin({ ...conn, clientId: 'test-admin' })
  await admin.createTopics(Object.values(names).map(name => ({ name, partitions: 3 })))
  t.after(async () => {
    await admin.deleteTopics(Object.values(names)).catch(() => {})
    await admin.close()
  })
  const group = uniqueName('g-sec')
  t.after(async () => {
    const store = await RedisStateStore.connect({
      url: redis.url,
      ca: redis.ca,
      keyPrefix: `darooghe:${group}:`
    })
    await store.clear()
    await store.close()
  })
  const kafka = ['--kafka-config', clientFile]
  const redisArgs = ['--redis', redis.url, '--redis-ca', redis.caFile]
  const database = uniqueName('secured')
  const mongoUrl = `${MONGO_URL}/${database}`
  const alertsFile = join(dir, 'alerts.ndjson')
  const count = 1_500

  // 1. produce: a finite, seeded stream.
  const produced = await runCli(
    [
      'produce',
      ...kafka,
      '--topic',
      names.in,
      '--count',
      String(count),
      '--rate',
      'max',
      '--unpaced',
      '--seed',
      group,
      '--customers',
      '300',
      '--log-level',
      'warn'
    ],
    { env: { DAROOGHE_BROKERS: '' } }
  )
  assert.equal(produced.code, 0, produced.stderr)

  // 2. the consumers, then serve.
  const detect = start([
    'detect',
    ...kafka,
    ...redisArgs,
    '--group',
    group,
    '--topic',
    names.in,
    '--approved-topic',
    names.approved,
    '--fraud-topic',
    names.fraud,
    '--alerts-topic',
    names.alerts,
    '--errors-topic',
    names.errors,
    '--reply-topics',
    names.replies,
    '--log-level',
    'info'
  ])
  const dispatch = start([
    'dispatch',
    ...kafka,
    ...redisArgs,
    '--topic',
    names.alerts,
    '--group',
    `${group}-dispatch`,
    '--file',
    alertsFile,
    '--summary-interval',
    '3600',
    '--log-level',
    'info'
  ])
  const store = start([
    'store',
    ...kafka,
    '--mongo',
    mongoUrl,
    '--group',
    `${group}-store`,
    '--from-beginning',
    '--approved-topic',
    names.approved,
    '--fraud-topic',
    names.fraud,
    '--alerts-topic',
    names.alerts,
    '--errors-topic',
    names.errors,
    '--late-topic',
    names.late,
    '--analytics-topic',
    names.analytics,
    '--status-interval',
    '0',
    '--log-level',
    'info'
  ])
  const serve = start([
    'serve',
    ...kafka,
    ...redisArgs,
    '--port',
    '0',
    '--topic',
    names.in,
    '--reply-topic',
    names.replies,
    '--key-prefix',
    `${group}:decisions:`,
    '--live-group',
    `${group}-live`,
    '--log-level',
    'info'
  ])
  const procs = [detect, dispatch, store, serve]
  stopAll(t, procs)
  const alive = () => {
    for (const p of procs)
      if (p.child.exitCode !== null)
        throw new Error(`a command exited (${p.child.exitCode}):\n${p.stderr.slice(-2000)}`)
    return true
  }

  // 3. every event decided, as file-mode runs of the same events decide them (one run per
  // input partition: some state, such as the merchants' fraud ratio, is kept per partition).
  const input = await readAll(conn, [names.in], r => r.length >= count)
  assert.equal(input.length, count)
  const byPartition = new Map<number, Buffer[]>()
  for (const r of [...input].sort((x, y) => x.partition - y.partition || x.offset - y.offset))
    byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.value!])
  const want = await fileModeOutcome(byPartition)
  assert.ok(want.decisions.size > count * 0.9, `the reference decided most events (${want.decisions.size})`)
  assert.ok(want.alerts.size > 0, 'the reference raised alerts')
  const topics = {
    input: names.in,
    approved: names.approved,
    fraud: names.fraud,
    alerts: names.alerts,
    errors: names.errors
  }
  const outputs = await readAll(
    conn,
    [names.approved, names.fraud, names.alerts, names.errors],
    r => alive() && r.length >= want.decisions.size + want.alerts.size + want.errors
  )
  assert.equal(outputs.length, want.decisions.size + want.alerts.size + want.errors, 'each output once')
  assertSameOutcome(outcomeOf(topics, outputs), want, 'detect over SASL_SSL with Redis TLS')
  const expected = want.decisions
  const expectedAlerts = want.alerts.size

  // 4. dispatch delivered every alert to its file; store wrote every decision to MongoDB.
  await waitFor(
    () => {
      alive()
      try {
        return readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean).length === expectedAlerts
      } catch {
        return false
      }
    },
    { what: 'dispatch to deliver every alert', timeoutMs: 90_000, intervalMs: 200 }
  )
  const mongo = new MongoClient(MONGO_URL)
  t.after(async () => {
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => {})
    await mongo.close()
  })
  await waitFor(
    async () =>
      alive() && (await mongo.db(database).collection('decisions').countDocuments({})) === expected.size,
    {
      what: 'store to write every decision',
      timeoutMs: 90_000,
      intervalMs: 250
    }
  )

  // 5. serve: a payment posted to the decision API is decided by the detector, over the same links.
  const base = await waitFor(() => /darooghe serve: (http:\/\/[\d.:]+)/.exec(serve.stdout)?.[1], {
    what: 'serve to listen',
    timeoutMs: 60_000
  })
  await waitFor(async () => (await fetch(`${base}/v1/decisions/none`)).status === 404, {
    what: 'the decision API to start',
    intervalMs: 100,
    timeoutMs: 60_000
  })
  const event = makeEvent({ t: Date.now() })
  const posted = await fetch(`${base}/v1/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event)
  })
  assert.equal(posted.status, 200, await posted.clone().text())
  const answer = (await posted.json()) as Json
  assert.equal(answer.transaction_id, event.transaction_id)
  assert.ok(['approved', 'fraud'].includes(answer.decision as string))
  const health = await (await fetch(`${base}/health`)).text()

  // 6. no password anywhere.
  for (const p of [...procs]) p.child.kill('SIGTERM')
  await Promise.all(procs.map(p => p.exited))
  const printed = [
    produced.stdout,
    produced.stderr,
    health,
    ...procs.flatMap(p => [p.stdout, p.stderr])
  ].join('\n')
  assert.ok(printed.length > 0)
  for (const secret of [kafkaPassword, redis.password])
    assert.ok(!printed.includes(secret), 'a password leaked into an output')
})
