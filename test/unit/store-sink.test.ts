import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { MemoryDocumentStore, MemoryLog } from '../../src/adapters/memory/index.ts'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { createGenerator } from '../../src/apps/generator/index.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../../src/apps/processor/index.ts'
import {
  COLLECTIONS,
  DEFAULT_STORE_TOPICS,
  runStore,
  STORE_INDEXES,
  type StoreTotals
} from '../../src/apps/store/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import { silentLogger } from '../../src/logger.ts'
import type { Doc, DocumentStore } from '../../src/ports/document-store.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { uniqueName, waitFor } from '../helpers/services.ts'

const T = DEFAULT_STORE_TOPICS
const TOPICS = [T.approved, T.fraud, T.alerts, T.errors, T.late, T.analytics]

/** The processor's real outputs for `count` generated events, on an embedded log. */
async function decidedLog(
  count: number,
  seed = 'store-unit'
): Promise<{ log: MemoryLog; outputs: OutRecord[] }> {
  const rate = 50
  const gen = createGenerator({
    start: Date.now() - (count / rate) * 1000 - 5_000,
    seed,
    customers: 300,
    rate,
    count
  })
  const input: LogRecord[] = []
  for (let r = gen.next(), i = 0; r !== undefined; r = gen.next(), i++) {
    input.push({
      topic: 'in',
      partition: 0,
      offset: i,
      key: Buffer.from(r.key),
      value: Buffer.from(r.raw),
      headers: {},
      timestamp: r.eventTimeMs
    })
  }
  const processor = createProcessor({
    store: new MemoryStateStore(),
    ruleSet: loadRuleSet('default'),
    options: processorOptions()
  })
  const { outputs } = await processor.processBatch(input)
  const log = new MemoryLog()
  for (const t of TOPICS) log.createTopic(t, 3)
  await log.producer().send(outputs)
  return { log, outputs }
}

const text = (r: OutRecord): string => (typeof r.value === 'string' ? r.value : r.value!.toString())

/** What each collection must hold, computed from the output records without the store's code. */
function expectedCounts(outputs: readonly OutRecord[]): Record<string, number> {
  const ids = (topic: string, field: string): Set<string> =>
    new Set(outputs.filter(o => o.topic === topic).map(o => JSON.parse(text(o))[field] as string))
  const decided = new Set([...ids(T.approved, 'transaction_id'), ...ids(T.fraud, 'transaction_id')])
  const errors = new Set(
    outputs
      .filter(o => o.topic === T.errors)
      .map(o => {
        const s = JSON.parse(text(o)).source
        return `${s.topic}:${s.partition}:${s.offset}`
      })
  )
  return {
    [COLLECTIONS.transactions]: decided.size,
    [COLLECTIONS.decisions]: decided.size,
    [COLLECTIONS.alerts]: ids(T.alerts, 'alert_id').size,
    [COLLECTIONS.validationErrors]: errors.size
  }
}

async function runToEnd(log: MemoryLog, store: DocumentStore, group: string, done: () => Promise<boolean>) {
  const consumer = log.consumer({ groupId: group, topics: TOPICS, maxBatchRecords: 500 })
  const abort = new AbortController()
  const running = runStore({
    consumer,
    store,
    log: silentLogger,
    signal: abort.signal,
    backoff: { initialMs: 1, maxMs: 5 }
  })
  await waitFor(done, { what: 'the store to catch up', timeoutMs: 20_000 })
  abort.abort()
  return running
}

function committedAll(log: MemoryLog, group: string): boolean {
  return TOPICS.every(t => {
    const ends = log.endOffsets(t)
    return log.committedOffsets(group, t).every((c, p) => c === ends[p] || (ends[p] === 0 && c <= 0))
  })
}

async function digest(store: DocumentStore): Promise<string> {
  const h = createHash('sha256')
  for (const c of Object.values(COLLECTIONS)) {
    for await (const batch of store.scan(c)) for (const d of batch) h.update(`${c}\n${JSON.stringify(d)}\n`)
  }
  return h.digest('hex')
}

test('decisions, alerts and errors land in their collections with Dates and days; a rerun changes nothing', async () => {
  const { log, outputs } = await decidedLog(2_000)
  const window = {
    window_id: 'tumbling_5m:2026-01-01T10:00:00.000Z',
    kind: 'tumbling_5m',
    window_start: '2026-01-01T10:00:00.000Z',
    window_end: '2026-01-01T10:05:00.000Z',
    transactions: 3
  }
  await log.producer().send([{ topic: T.analytics, key: window.window_id, value: JSON.stringify(window) }])
  const expected = expectedCounts(outputs)
  assert.ok(
    expected[COLLECTIONS.alerts]! > 0 && expected[COLLECTIONS.validationErrors]! > 0,
    'the sample has alerts and errors'
  )

  const store = new MemoryDocumentStore()
  const group = uniqueName('g-store')
  const totals = await runToEnd(log, store, group, async () => committedAll(log, group))
  for (const [c, n] of Object.entries(expected)) assert.equal(await store.count(c), n, c)
  assert.equal(await store.count(COLLECTIONS.analyticsWindows), 1)
  assert.equal(await store.count(COLLECTIONS.rejects), 0)
  assert.equal(totals.records, outputs.length + 1)
  assert.equal(totals.rejects, 0)
  for (const [c, specs] of Object.entries(STORE_INDEXES)) assert.deepEqual(store.indexesOf(c), specs)

  const fraudRecord = JSON.parse(text(outputs.find(o => o.topic === T.fraud)!))
  const tx = (await all(store, COLLECTIONS.transactions)).find(d => d._id === fraudRecord.transaction_id)!
  assert.ok(tx.event_time instanceof Date && tx.processed_at instanceof Date)
  assert.equal(tx.event_time.toISOString(), new Date(fraudRecord.event_time).toISOString())
  assert.equal(tx.day, fraudRecord.event_time.slice(0, 10))
  assert.equal(tx.decision, 'fraud')
  assert.deepEqual(tx.rules_fired, fraudRecord.rules_fired)
  assert.deepEqual(tx.location, fraudRecord.location, 'the event fields are kept')
  assert.equal(tx.commission_type, fraudRecord.commission_type)
  assert.equal(tx.trace, undefined, 'the trace lives in decisions')
  const dec = (await all(store, COLLECTIONS.decisions)).find(d => d._id === fraudRecord.transaction_id)!
  assert.deepEqual(dec.trace, fraudRecord.trace)
  assert.deepEqual(dec.source, fraudRecord.source)
  assert.equal(dec.customer_id, fraudRecord.customer_id)
  const alert = (await all(store, COLLECTIONS.alerts))[0]!
  assert.ok(alert.created_at instanceof Date && /^alert-/.test(alert._id))
  const err = (await all(store, COLLECTIONS.validationErrors))[0]!
  assert.match(err._id, /^in:0:\d+$/)
  assert.ok(err.ingestion_time instanceof Date)
  const w = (await all(store, COLLECTIONS.analyticsWindows))[0]!
  assert.equal(w._id, window.window_id)
  assert.ok(w.window_start instanceof Date)

  const before = await digest(store)
  const again = uniqueName('g-store-again')
  await runToEnd(log, store, again, async () => committedAll(log, again))
  assert.equal(await digest(store), before, 'replaying every record rewrites identical documents')
})

async function all(store: DocumentStore, collection: string): Promise<Doc[]> {
  const out: Doc[] = []
  for await (const b of store.scan(collection)) out.push(...b)
  return out
}

test('an undecodable record goes to store_rejects with its bytes and the reason; the stream goes on', async () => {
  const log = new MemoryLog()
  for (const t of TOPICS) log.createTopic(t, 1)
  await log.producer().send([
    { topic: T.approved, value: 'not json {' },
    { topic: T.alerts, value: JSON.stringify({ created_at: '2026-01-01T00:00:00Z' }) },
    { topic: T.alerts, value: JSON.stringify({ alert_id: 'alert-x', created_at: '2026-01-01T00:00:00Z' }) }
  ])
  const store = new MemoryDocumentStore()
  const group = uniqueName('g-rejects')
  const totals = await runToEnd(log, store, group, async () => committedAll(log, group))
  assert.equal(totals.rejects, 2)
  const rejects = await all(store, COLLECTIONS.rejects)
  assert.deepEqual(
    rejects.map(r => r._id),
    [`${T.alerts}:0:0`, `${T.approved}:0:0`]
  )
  const bad = rejects.find(r => r.topic === T.approved)!
  assert.equal(Buffer.from(bad.value_base64 as string, 'base64').toString(), 'not json {')
  assert.match(bad.reason as string, /not JSON/)
  assert.match(rejects.find(r => r.topic === T.alerts)!.reason as string, /alert_id/)
  assert.equal(await store.count(COLLECTIONS.alerts), 1)
})

/** A store that can be taken down (retriable failures) or made to refuse one id for good. */
class FlakyStore extends MemoryDocumentStore {
  down = false
  failures = 0
  refuse = new Set<string>()
  override async upsertMany(collection: string, docs: readonly Doc[]): Promise<void> {
    if (this.down) {
      this.failures++
      throw new DaroogheError('MONGO', 'MongoDB is down (test)', { retriable: true })
    }
    if (docs.some(d => this.refuse.has(d._id)))
      throw new DaroogheError('MONGO', 'refused (test)', { retriable: false })
    return super.upsertMany(collection, docs)
  }
}

test('a store outage pauses consumption without committing; it resumes and loses nothing', async () => {
  const { log, outputs } = await decidedLog(1_500, 'store-outage')
  const store = new FlakyStore()
  store.down = true
  const group = uniqueName('g-outage')
  const consumer = log.consumer({ groupId: group, topics: TOPICS, maxBatchRecords: 200 })
  const abort = new AbortController()
  let batches = 0
  const running = runStore({
    consumer,
    store,
    log: silentLogger,
    signal: abort.signal,
    backoff: { initialMs: 1, maxMs: 10 },
    onBatch: () => void batches++
  })
  await waitFor(() => store.failures >= 5, { what: 'writes to fail and be retried' })
  assert.equal(batches, 0, 'no batch completes while the store is down')
  for (const t of TOPICS)
    assert.ok(
      log.committedOffsets(group, t).every(c => c <= 0),
      `nothing committed on ${t}`
    )
  store.down = false
  await waitFor(() => committedAll(log, group), { what: 'the store to catch up after the outage' })
  abort.abort()
  const totals: StoreTotals = await running
  assert.ok(totals.retries >= 5, `retries counted (${totals.retries})`)
  for (const [c, n] of Object.entries(expectedCounts(outputs))) assert.equal(await store.count(c), n, c)
})

test('a document the store refuses for good goes to store_rejects; the rest of its batch is stored', async () => {
  const log = new MemoryLog()
  for (const t of TOPICS) log.createTopic(t, 1)
  const alert = (id: string) => ({
    topic: T.alerts,
    value: JSON.stringify({ alert_id: id, created_at: '2026-01-01T00:00:00Z' })
  })
  await log.producer().send([alert('a1'), alert('bad'), alert('a3')])
  const store = new FlakyStore()
  store.refuse.add('bad')
  const group = uniqueName('g-refuse')
  const totals = await runToEnd(log, store, group, async () => committedAll(log, group))
  assert.deepEqual(
    (await all(store, COLLECTIONS.alerts)).map(d => d._id),
    ['a1', 'a3']
  )
  const [reject] = await all(store, COLLECTIONS.rejects)
  assert.equal(reject!._id, `${T.alerts}:0:1`)
  assert.match(reject!.reason as string, /refused/)
  assert.equal(totals.rejects, 1)
})

test('stopping mid-stream commits only what is stored; a restart in the same group finishes the job', async () => {
  const { log, outputs } = await decidedLog(1_500, 'store-stop')
  const store = new MemoryDocumentStore()
  const group = uniqueName('g-stop')
  const abort = new AbortController()
  let batches = 0
  const running = runStore({
    consumer: log.consumer({ groupId: group, topics: TOPICS, maxBatchRecords: 100 }),
    store,
    log: silentLogger,
    signal: abort.signal,
    onBatch: () => {
      if (++batches === 3) abort.abort()
    }
  })
  const first = await running
  assert.equal(first.batches, 3, 'the batch in flight finishes, no further one is stored')
  const committed = TOPICS.flatMap(t => log.committedOffsets(group, t)).reduce(
    (a, b) => a + Math.max(0, b),
    0
  )
  assert.equal(committed, first.records, 'exactly the stored records are committed')
  await runToEnd(log, store, group, async () => committedAll(log, group))
  for (const [c, n] of Object.entries(expectedCounts(outputs))) assert.equal(await store.count(c), n, c)
})
