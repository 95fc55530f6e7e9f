import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { MongoClient, type Db } from 'mongodb'
import { KafkaLogAdmin, KafkaLogConsumer } from '../../src/adapters/kafka/index.ts'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { MongoDocumentStore } from '../../src/adapters/mongo/index.ts'
import { runStore, storeTopics } from '../../src/apps/store/index.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { runCli, start, type Running } from '../helpers/cli.ts'
import { createTopic, KAFKA_BROKERS, MONGO_URL, uniqueName, waitFor } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

/**
 * The storage sink end to end on the real services: the generator's 7-day history through the
 * detector, then `darooghe store` into MongoDB. Expected counts are computed here from the
 * output topics, independently of the store's code.
 */
interface Topics {
  raw: string
  approved: string
  fraud: string
  alerts: string
  errors: string
  late: string
  analytics: string
}
const ROLES = ['approved', 'fraud', 'alerts', 'errors', 'late', 'analytics'] as const
const COLLECTIONS = [
  'transactions',
  'decisions',
  'alerts',
  'validation_errors',
  'late_events',
  'store_rejects'
]

async function makeTopics(t: TestContext): Promise<Topics> {
  const names = await Promise.all(['raw', ...ROLES].map(n => createTopic(t, `store-${n}`, 3)))
  const [raw, approved, fraud, alerts, errors, late, analytics] = names as [string, ...string[]]
  return {
    raw,
    approved: approved!,
    fraud: fraud!,
    alerts: alerts!,
    errors: errors!,
    late: late!,
    analytics: analytics!
  }
}

async function withAdmin<T>(fn: (admin: KafkaLogAdmin) => Promise<T>): Promise<T> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    return await fn(admin)
  } finally {
    await admin.close()
  }
}

/** Sum over the topics of (committed offset of the group, end offset). */
async function progress(
  group: string,
  topics: readonly string[]
): Promise<{ committed: number; end: number }> {
  return withAdmin(async admin => {
    let committed = 0
    let end = 0
    for (const topic of topics) {
      const [ends, done] = await Promise.all([admin.endOffsets(topic), admin.committedOffsets(group, topic)])
      ends.forEach((e, p) => {
        end += e
        committed += Math.min(e, Math.max(0, done[p] ?? -1))
      })
    }
    return { committed, end }
  })
}

async function waitCommitted(group: string, topics: readonly string[], what: string): Promise<void> {
  await waitFor(
    async () => {
      const p = await progress(group, topics)
      return p.committed === p.end
    },
    { what, timeoutMs: 180_000, intervalMs: 250 }
  )
}

async function readAll(topics: readonly string[]): Promise<LogRecord[]> {
  const { end } = await progress(uniqueName('g-none'), topics)
  const seen: LogRecord[] = []
  const consumer = new KafkaLogConsumer({ brokers: KAFKA_BROKERS, groupId: uniqueName('g-read'), topics })
  const running = consumer.run({ onBatch: async recs => void seen.push(...recs) })
  try {
    await waitFor(() => seen.length >= end, { what: `${end} output records`, timeoutMs: 60_000 })
  } finally {
    await consumer.close()
    await running
  }
  return seen
}

type Json = Record<string, unknown>

/** What each collection must hold, from the output records alone. */
function expectedCounts(records: readonly LogRecord[], topics: Topics): Record<string, number> {
  const sets: Record<string, Set<string>> = Object.fromEntries(COLLECTIONS.map(c => [c, new Set<string>()]))
  for (const r of records) {
    const v = JSON.parse(r.value!.toString()) as Json
    if (r.topic === topics.approved || r.topic === topics.fraud) {
      sets.transactions!.add(v.transaction_id as string)
      sets.decisions!.add(v.transaction_id as string)
    } else if (r.topic === topics.alerts) sets.alerts!.add(v.alert_id as string)
    else if (r.topic === topics.errors) {
      const s = v.source as { topic: string; partition: number; offset: number }
      sets.validation_errors!.add(`${s.topic}:${s.partition}:${s.offset}`)
    } else if (r.topic === topics.late) sets.late_events!.add(v.transaction_id as string)
  }
  return Object.fromEntries(COLLECTIONS.map(c => [c, sets[c]!.size]))
}

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const c of COLLECTIONS) out[c] = await db.collection(c).countDocuments({})
  return out
}

/** A hash of every document of every collection, in _id order. */
async function digest(db: Db): Promise<string> {
  const h = createHash('sha256')
  for (const c of COLLECTIONS) {
    for await (const d of db.collection(c).find({}, { sort: { _id: 1 } }))
      h.update(`${c}\n${JSON.stringify(d)}\n`)
  }
  return h.digest('hex')
}

function storeArgs(topics: Topics, db: string, group: string, extra: string[] = []): string[] {
  const url = `${MONGO_URL.replace(/\/$/, '')}/${db}`
  return [
    'store',
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--mongo',
    url,
    '--group',
    group,
    '--from-beginning',
    ...ROLES.flatMap(r => [`--${r}-topic`, topics[r]]),
    '--status-interval',
    '0',
    '--log-level',
    'warn',
    ...extra
  ]
}

async function stopCleanly(run: Running): Promise<void> {
  run.child.kill('SIGTERM')
  assert.equal(await run.exited, 0, `store exits 0 on SIGTERM; stderr: ${run.stderr}`)
}

test('history → detector → store: counts as computed from the topics; a rerun changes nothing; a SIGKILL loses nothing', async t => {
  const topics = await makeTopics(t)
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5_000 })
  await client.connect()
  const dbNames = [
    uniqueName('test_store').replace(/-/g, '_'),
    uniqueName('test_store_kill').replace(/-/g, '_')
  ]
  t.after(async () => {
    for (const n of dbNames) await client.db(n).dropDatabase()
    await client.close()
  })
  const running: Running[] = []
  t.after(() => running.forEach(r => r.child.kill('SIGKILL')))

  // 19,000 history events over 7 days + 1,000 live ones; record timestamps are event times.
  const produced = await runCli([
    'produce',
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--topic',
    topics.raw,
    '--init',
    'append',
    '--history',
    '19000',
    '--count',
    '1000',
    '--seed',
    '3',
    '--rate',
    'max',
    '--unpaced',
    '--log-level',
    'warn'
  ])
  assert.equal(produced.code, 0, produced.stderr)
  const rawEnd = (await progress(uniqueName('g-none'), [topics.raw])).end
  assert.equal(rawEnd, 20_000)

  const detectGroup = uniqueName('g-store-detect')
  const detector = start([
    'detect',
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--memory-state',
    '--topic',
    topics.raw,
    '--group',
    detectGroup,
    ...(['approved', 'fraud', 'alerts', 'errors'] as const).flatMap(r => [`--${r}-topic`, topics[r]]),
    '--status-interval',
    '0',
    '--log-level',
    'warn'
  ])
  running.push(detector)
  await waitCommitted(detectGroup, [topics.raw], 'the detector to decide every event')
  detector.child.kill('SIGTERM')
  await detector.exited

  const outputTopics = ROLES.map(r => topics[r])
  const outputs = await readAll(outputTopics)
  const expected = expectedCounts(outputs, topics)
  assert.ok(expected.transactions! > 19_000, `most events decided (${expected.transactions})`)
  assert.ok(expected.alerts! > 0 && expected.validation_errors! > 0, JSON.stringify(expected))

  // First run.
  const db = client.db(dbNames[0]!)
  const group1 = uniqueName('g-store-1')
  const first = start(storeArgs(topics, dbNames[0]!, group1))
  running.push(first)
  await waitCommitted(group1, outputTopics, 'the store to commit every output record')
  assert.deepEqual(await counts(db), expected)
  await stopCleanly(first)
  const indexes = (await db.collection('transactions').indexes()).map(i => JSON.stringify(i.key))
  for (const k of [
    '{"day":1,"event_time":1}',
    '{"customer_id":1,"event_time":1}',
    '{"decision":1,"event_time":1}'
  ]) {
    assert.ok(indexes.includes(k), `transactions index ${k}`)
  }
  const hash = await digest(db)
  const tx = await db.collection('transactions').findOne({})
  assert.ok(tx?.event_time instanceof Date && /^\d{4}-\d{2}-\d{2}$/.test(tx.day as string))

  // `darooghe analyze` over what the sink stored: numbers as computed here from the topics.
  const decisions = outputs
    .filter(r => r.topic === topics.approved || r.topic === topics.fraud)
    .map(r => JSON.parse(r.value!.toString()) as Record<string, unknown>)
  const byId = new Map(decisions.map(d => [d.transaction_id as string, d]))
  const unique = [...byId.values()]
  const count = (field: string) =>
    unique.reduce<Record<string, number>>(
      (m, d) => ((m[d[field] as string] = (m[d[field] as string] ?? 0) + 1), m),
      {}
    )
  const analyzed = await runCli([
    'analyze',
    '--mongo',
    MONGO_URL,
    '--database',
    dbNames[0]!,
    '--run-id',
    'store-e2e',
    '--no-png',
    '--quiet'
  ])
  assert.equal(analyzed.code, 0, analyzed.stderr)
  const summaryDoc = await db.collection('analytics_summary').findOne({ _id: 'store-e2e' as never })
  const { summary, fraud } = summaryDoc?.result as {
    summary: Record<string, unknown>
    fraud: { decided: number; fraud: number }
  }
  assert.equal(summary.transactions, unique.length)
  assert.equal(
    summary.total_value,
    unique.reduce((a, d) => a + (d.amount as number), 0)
  )
  assert.deepEqual(summary.by_status, count('status'))
  assert.deepEqual(summary.by_payment_method, count('payment_method'))
  assert.deepEqual([fraud.decided, fraud.fraud], [unique.length, count('decision').fraud ?? 0])
  const merchantsDoc = await db.collection('analytics_merchants').findOne({ _id: 'store-e2e' as never })
  const byMerchant = count('merchant_id')
  const top = Object.entries(byMerchant).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!
  const topByCount = (merchantsDoc?.result as { top_by_count: { merchant_id: string; count: number }[] })
    .top_by_count[0]!
  assert.deepEqual([topByCount.merchant_id, topByCount.count], top)

  // Rerun over the same records with a new group: nothing changes.
  const group2 = uniqueName('g-store-2')
  const again = start(storeArgs(topics, dbNames[0]!, group2))
  running.push(again)
  await waitCommitted(group2, outputTopics, 'the rerun')
  await stopCleanly(again)
  assert.deepEqual(await counts(db), expected)
  assert.equal(await digest(db), hash, 'the rerun rewrote identical documents')

  // SIGKILL mid-run, then a restart in the same group: every document is there.
  const killDb = client.db(dbNames[1]!)
  const group3 = uniqueName('g-store-kill')
  const victim = start(storeArgs(topics, dbNames[1]!, group3, ['--batch-size', '200']))
  running.push(victim)
  await waitFor(async () => (await killDb.collection('transactions').countDocuments({})) >= 1_000, {
    what: 'the store to write some documents',
    timeoutMs: 90_000,
    intervalMs: 20
  })
  victim.child.kill('SIGKILL')
  await victim.exited
  const atKill = await progress(group3, outputTopics)
  assert.ok(atKill.committed < atKill.end, `killed before the end (${atKill.committed}/${atKill.end})`)
  const restarted = start(storeArgs(topics, dbNames[1]!, group3))
  running.push(restarted)
  await waitCommitted(group3, outputTopics, 'the restarted store')
  await stopCleanly(restarted)
  assert.deepEqual(await counts(killDb), expected)
  assert.equal(await digest(killDb), hash, 'the same documents as the uninterrupted run')
})

test('MongoDB cut off mid-stream: consumption pauses uncommitted, retries are logged, it resumes and loses nothing', async t => {
  const alertsTopic = await createTopic(t, 'store-outage', 3)
  const topics = storeTopics({ alerts: alertsTopic })
  const mongo = new URL(MONGO_URL)
  const proxy = new TcpProxy({ host: mongo.hostname, port: Number(mongo.port || 27017) })
  await proxy.up()
  const database = uniqueName('test_store_outage').replace(/-/g, '_')
  const store = await MongoDocumentStore.connect({
    url: `mongodb://127.0.0.1:${proxy.port}/${database}`,
    serverSelectionTimeoutMs: 500
  })
  const direct = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5_000 })
  t.after(async () => {
    await direct.db(database).dropDatabase()
    await direct.close()
    await store.close().catch(() => {})
    await proxy.down()
  })
  const lines: { msg: string; attempt?: number }[] = []
  const log = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as { msg: string; attempt?: number })
        done()
      }
    })
  )
  const producer = new KafkaLogProducer({ brokers: KAFKA_BROKERS })
  t.after(() => producer.close())
  const alert = (i: number) => ({
    topic: alertsTopic,
    key: `cust_${i % 7}`,
    value: JSON.stringify({
      alert_id: `alert-${i}`,
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
    })
  })
  const group = uniqueName('g-store-outage')
  const consumer = new KafkaLogConsumer({
    brokers: KAFKA_BROKERS,
    groupId: group,
    topics: [alertsTopic],
    maxBatchRecords: 50
  })
  const abort = new AbortController()
  let batches = 0
  const running = runStore({
    consumer,
    store,
    topics,
    log,
    signal: abort.signal,
    backoff: { initialMs: 50, maxMs: 300 },
    onBatch: () => void batches++
  })
  t.after(async () => {
    abort.abort()
    await running.catch(() => {})
  })

  await producer.send(Array.from({ length: 100 }, (_, i) => alert(i)))
  await waitCommitted(group, [alertsTopic], 'the first records to be stored')
  await proxy.down()
  const before = batches
  await producer.send(Array.from({ length: 300 }, (_, i) => alert(100 + i)))
  await waitFor(() => lines.filter(l => /retrying/.test(l.msg)).some(l => (l.attempt ?? 0) >= 3), {
    what: 'retries with their attempt count in the log',
    timeoutMs: 60_000
  })
  assert.equal(batches, before, 'no batch completes while MongoDB is away')
  assert.equal((await progress(group, [alertsTopic])).committed, 100, 'nothing more is committed')
  await proxy.up()
  await waitCommitted(group, [alertsTopic], 'the store to resume after the outage')
  abort.abort()
  const totals = await running
  assert.ok(totals.retries >= 3, `retries counted (${totals.retries})`)
  assert.equal(await store.count('alerts'), 400)
  assert.equal(totals.rejects, 0)
})
