/**
 * Sink suite: throughput of `darooghe store`'s write path into MongoDB. The decision records
 * (approved, fraud, alerts, errors) are made beforehand by the real processor over generator
 * events and held in the embedded log, so the timed part is consume → map → bulk upserts →
 * commit, with MongoDB the only external service. One unique database per run, dropped after.
 */
import { randomBytes } from 'node:crypto'
import { MemoryLog } from '../../src/adapters/memory/index.ts'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { MongoDocumentStore } from '../../src/adapters/mongo/index.ts'
import { createGenerator } from '../../src/apps/generator/index.ts'
import { createProcessor, loadRuleSet } from '../../src/apps/processor/index.ts'
import { DEFAULT_STORE_TOPICS, runStore, type StoreTotals } from '../../src/apps/store/index.ts'
import { silentLogger } from '../../src/logger.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { BENCH_CUSTOMERS, FILL_EVENT_RATE } from '../harness/fill.ts'

const CHUNK = 20_000
const PARTITIONS = 6
const BATCH = 5_000

export interface SinkResult {
  /** Generator events behind the records (decided or invalid). */
  readonly events: number
  /** Records on the output topics: decisions, alerts, errors. */
  readonly records: number
  /** Documents written (a decision is two: transactions and decisions). */
  readonly documents: number
  readonly seconds: number
  readonly eventsPerSecond: number
  readonly docsPerSecond: number
  readonly batchRecords: number
  readonly byCollection: Readonly<Record<string, number>>
  readonly retries: number
}

/** The processor's outputs for `events` generator events, on a fresh embedded log. */
async function prefill(events: number): Promise<{ log: MemoryLog; records: number }> {
  const log = new MemoryLog({ defaultPartitions: PARTITIONS })
  const t = DEFAULT_STORE_TOPICS
  for (const topic of Object.values(t)) log.createTopic(topic, PARTITIONS)
  const processor = createProcessor({ store: new MemoryStateStore(), ruleSet: loadRuleSet('default') })
  const generator = createGenerator({
    start: Date.now() - (events / FILL_EVENT_RATE) * 1000 - 5_000,
    seed: 'bench-sink',
    customers: BENCH_CUSTOMERS,
    rate: FILL_EVENT_RATE,
    count: events
  })
  const producer = log.producer()
  const offsets = new Array<number>(PARTITIONS).fill(0)
  let records = 0
  let chunk: LogRecord[] = []
  const flush = async (): Promise<void> => {
    const { outputs } = await processor.processBatch(chunk)
    await producer.send(outputs)
    records += outputs.length
    chunk = []
  }
  for (let r = generator.next(); r !== undefined; r = generator.next()) {
    const partition = Number(/\d+/.exec(r.key)?.[0] ?? 0) % PARTITIONS
    chunk.push({
      topic: 'bench.sink.in',
      partition,
      offset: offsets[partition]!++,
      key: Buffer.from(r.key),
      value: Buffer.from(r.raw),
      headers: {},
      timestamp: r.eventTimeMs
    })
    if (chunk.length >= CHUNK) await flush()
  }
  if (chunk.length > 0) await flush()
  return { log, records }
}

export async function sinkSuite(opts: { events: number; mongoUrl: string }): Promise<SinkResult> {
  const { log, records } = await prefill(opts.events)
  const database = `bench_sink_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const store = await MongoDocumentStore.connect({ url: opts.mongoUrl, database })
  try {
    const abort = new AbortController()
    const consumer = log.consumer({
      groupId: 'bench-sink',
      topics: Object.values(DEFAULT_STORE_TOPICS),
      maxBatchRecords: BATCH
    })
    const t0 = performance.now()
    let t1 = t0
    const totals: StoreTotals = await runStore({
      consumer,
      store,
      log: silentLogger,
      signal: abort.signal,
      onBatch: t => {
        if (t.records < records) return
        t1 = performance.now()
        abort.abort()
      }
    })
    const seconds = (t1 - t0) / 1000
    const documents = Object.values(totals.documents).reduce((a, b) => a + b, 0)
    return {
      events: opts.events,
      records,
      documents,
      seconds,
      eventsPerSecond: Math.round(opts.events / seconds),
      docsPerSecond: Math.round(documents / seconds),
      batchRecords: BATCH,
      byCollection: { ...totals.documents },
      retries: totals.retries
    }
  } finally {
    await store.database.dropDatabase().catch(() => {})
    await store.close()
  }
}
