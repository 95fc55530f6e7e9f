/**
 * Suite 4: each stage of the detector alone, on the same generator events as the other
 * suites, so the bottleneck is visible. The in-memory stages follow benchmarks/processor-stage.ts.
 */
import { KafkaLogProducer } from '../../src/adapters/kafka/index.ts'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { createGenerator } from '../../src/apps/generator/index.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../../src/apps/processor/index.ts'
import { scanEvent } from '../../src/domain/event-scan.ts'
import {
  applyTransaction,
  CustomerState,
  insertionIndex,
  RecentTxn,
  transactionKey
} from '../../src/domain/rules/customer-state.ts'
import { RuleEngine } from '../../src/domain/rules/engine.ts'
import type { RuleContext } from '../../src/domain/rules/evaluators.ts'
import { riskScore } from '../../src/domain/scoring.ts'
import { DEFAULT_VALIDATION, validateEvent } from '../../src/domain/validate.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import type { StateStore, StateValue } from '../../src/ports/state-store.ts'
import { type BenchEnv } from '../harness/env.ts'
import { BENCH_CUSTOMERS, FILL_EVENT_RATE } from '../harness/fill.ts'
import { ratePerSecond, summarize } from '../lib/stats.ts'
import type { StageResult } from '../lib/types.ts'
import { PARTITIONS } from './detector.ts'

const BATCH = 5_000
const RUNS = 3

function records(n: number): LogRecord[] {
  const g = createGenerator({
    start: Date.now() - (n / FILL_EVENT_RATE) * 1000 - 5_000,
    seed: 'bench-stages',
    customers: BENCH_CUSTOMERS,
    rate: FILL_EVENT_RATE,
    count: n
  })
  const out: LogRecord[] = []
  const offsets = new Array<number>(PARTITIONS).fill(0)
  for (let r = g.next(); r !== undefined; r = g.next()) {
    const partition = Number(/\d+/.exec(r.key)?.[0] ?? 0) % PARTITIONS
    out.push({
      topic: 'bench.stages',
      partition,
      offset: offsets[partition]!++,
      key: Buffer.from(r.key),
      value: Buffer.from(r.raw),
      headers: {},
      timestamp: r.eventTimeMs
    })
  }
  return out
}

function time(fn: () => void): number {
  const t0 = performance.now()
  fn()
  return performance.now() - t0
}

/** What the rules stage reads of a decoded, valid event. */
interface Decoded {
  readonly customerId: string
  readonly merchantId: string
  readonly transactionId: string
  readonly amount: number
  readonly lat: number
  readonly lng: number
  readonly t: number
}

/** The processor's decode path: the byte scanner, and JSON.parse + validateEvent where it is not certain. */
function decodeValidate(recs: readonly LogRecord[]): Decoded[] {
  const valid: Decoded[] = []
  for (const r of recs) {
    const scanned = scanEvent(r.value!, r.timestamp, DEFAULT_VALIDATION)
    if (scanned !== null) {
      valid.push({ ...scanned, t: scanned.eventTimeMs })
      continue
    }
    let json: unknown
    try {
      json = JSON.parse(r.value!.toString('utf8'))
    } catch {
      continue
    }
    const v = validateEvent(json, r.timestamp)
    if (v.ok) {
      const e = v.event
      valid.push({
        customerId: e.customer_id,
        merchantId: e.merchant_id,
        transactionId: e.transaction_id,
        amount: e.amount,
        lat: e.location.lat,
        lng: e.location.lng,
        t: v.eventTimeMs
      })
    }
  }
  return valid
}

function rulesScore(events: readonly Decoded[]): void {
  const engine = new RuleEngine(loadRuleSet('default'))
  const limits = { retentionMs: engine.historyMs + 30_000, maxRecent: 64, maxLocations: 20, maxMerchants: 20 }
  const customers = new Map<string, CustomerState>()
  const ctx: RuleContext = { customer: new CustomerState(), t: 0, amount: 0, lat: 0, lng: 0, pos: 0 }
  for (const e of events) {
    const t = e.t
    let c = customers.get(e.customerId)
    if (!c) customers.set(e.customerId, (c = new CustomerState()))
    ctx.customer = c
    ctx.t = t
    ctx.amount = e.amount
    ctx.lat = e.lat
    ctx.lng = e.lng
    ctx.pos = insertionIndex(c.recent, t)
    const ev = engine.evaluate(ctx)
    riskScore({
      ratio: ev.ratio,
      windowCount: ev.windowCount,
      windowMax: ev.windowMax,
      merchantCount: 10,
      merchantFraud: 0,
      weightSum: ev.weightSum,
      fraudHits: ev.fraudHits
    })
    applyTransaction(
      c,
      new RecentTxn(t, e.amount, ctx.lat, ctx.lng, transactionKey(e.transactionId)),
      ctx.pos,
      e.merchantId,
      limits
    )
  }
}

/** A batch's state write: its puts (progress, snapshots) and its journal appends. */
interface CapturedWrite {
  readonly puts: ReadonlyArray<readonly [string, StateValue]>
  readonly appends: ReadonlyArray<readonly [string, Uint8Array]>
}

/** The memory store, remembering the last write of a batch (the write-behind of a batch). */
class CapturingStore extends MemoryStateStore implements StateStore {
  last: CapturedWrite = { puts: [], appends: [] }
  override async writeBatch(
    puts: ReadonlyArray<readonly [string, StateValue]>,
    deletes?: readonly string[],
    guards?: ReadonlyArray<readonly [string, string | null]>,
    appends: ReadonlyArray<readonly [string, Uint8Array]> = []
  ): Promise<void> {
    this.last = { puts, appends }
    return super.writeBatch(puts, deletes, guards, appends)
  }
}

export async function stagesSuite(
  env: BenchEnv,
  n: number,
  log: (line: string) => void
): Promise<StageResult[]> {
  const recs = records(n)
  const rates = {
    decode: [] as number[],
    rules: [] as number[],
    batch: [] as number[],
    redis: [] as number[],
    produce: [] as number[]
  }
  let events: Decoded[] = []
  let lastBatch: { write: CapturedWrite; outputs: OutRecord[] } | null = null
  for (let run = 0; run <= RUNS; run++) {
    // Run 0 warms the JIT up and is not counted.
    const count = (k: keyof typeof rates, v: number): void => void (run > 0 && rates[k].push(v))
    count(
      'decode',
      ratePerSecond(
        recs.length,
        time(() => (events = decodeValidate(recs)))
      )
    )
    count(
      'rules',
      ratePerSecond(
        events.length,
        time(() => rulesScore(events))
      )
    )
    const store = new CapturingStore()
    // As the detector runs it: outputs-first, the state written by complete().
    const processor = createProcessor({
      store,
      ruleSet: loadRuleSet('default'),
      options: processorOptions(),
      delivery: 'outputs-first'
    })
    const t0 = performance.now()
    for (let i = 0; i < recs.length; i += BATCH) {
      const r = await processor.processBatch(
        recs.slice(i, i + BATCH),
        recs[Math.min(recs.length, i + BATCH) - 1]!.timestamp + 5
      )
      await r.complete()
      if (i + BATCH < recs.length) lastBatch = { write: store.last, outputs: r.outputs }
    }
    count('batch', ratePerSecond(recs.length, performance.now() - t0))
  }
  if (lastBatch === null) throw new Error('stages: need at least two batches of events')
  const { write, outputs } = lastBatch
  const repeats = Math.max(5, Math.round(n / BATCH))

  const redis = await RedisStateStore.connect({ url: env.redisUrl, keyPrefix: `${env.runId}:stages:` })
  try {
    for (let run = 0; run <= RUNS; run++) {
      const t0 = performance.now()
      for (let i = 0; i < repeats; i++) await redis.writeBatch(write.puts, [], [], write.appends)
      if (run > 0) rates.redis.push(ratePerSecond(repeats * BATCH, performance.now() - t0))
    }
  } finally {
    await redis.clear()
    await redis.close()
  }
  const topic = env.name('stage-produce')
  await env.createTopics([topic], PARTITIONS)
  const retargeted = outputs.map(o => ({ ...o, topic }))
  const producer = new KafkaLogProducer({ brokers: env.brokers, clientId: 'darooghe-bench-stages' })
  try {
    for (let run = 0; run <= RUNS; run++) {
      const t0 = performance.now()
      for (let i = 0; i < repeats; i++) await producer.send(retargeted)
      if (run > 0) rates.produce.push(ratePerSecond(repeats * retargeted.length, performance.now() - t0))
    }
  } finally {
    await producer.close()
  }
  const putBytes = write.puts.reduce((s, [k, v]) => s + k.length + v.length, 0)
  const appendBytes = write.appends.reduce((s, [k, v]) => s + k.length + v.length, 0)
  const outBytes = outputs.reduce((s, o) => s + Buffer.byteLength(o.value ?? ''), 0)
  const result: StageResult[] = [
    {
      name: 'decode+validate',
      eventsPerSecond: summarize(rates.decode),
      detail: `the byte scanner (JSON.parse + validateEvent where it is not certain) over ${recs.length.toLocaleString('en-US')} generator events, in memory`
    },
    {
      name: 'rules+score',
      eventsPerSecond: summarize(rates.rules),
      detail: 'all default rules, risk score and customer-state update on the decoded valid events, in memory'
    },
    {
      name: 'processBatch (memory state)',
      eventsPerSecond: summarize(rates.batch),
      detail: `the whole processor path incl. encoding outputs, batches of ${BATCH}, MemoryStateStore`
    },
    {
      name: 'state write-behind (Redis)',
      eventsPerSecond: summarize(rates.redis),
      detail: `RedisStateStore.writeBatch (one MULTI/MSET/APPEND/EXEC) of a ${BATCH}-event batch's state: ${write.puts.length} keys put (${Math.round(putBytes / 1024)} KiB), ${write.appends.length} journals appended (${Math.round(appendBytes / 1024)} KiB), ${repeats} × per run; events/s = ${BATCH} × batches/s`
    },
    {
      name: 'produce (Kafka)',
      eventsPerSecond: summarize(rates.produce),
      detail: `KafkaLogProducer.send of a batch's ${outputs.length} outputs (${Math.round(outBytes / outputs.length)} bytes mean, idempotent, acks=all, ${PARTITIONS} partitions), ${repeats} × per run`
    }
  ]
  for (const s of result)
    log(`  ${s.name}: ${Math.round(s.eventsPerSecond.median).toLocaleString('en-US')} events/s`)
  return result
}
