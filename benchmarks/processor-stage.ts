/**
 * Throughput of the processor stages on synthetic valid events (~1,000 customers), in memory:
 *   decode+validate   JSON.parse + validateEvent
 *   rules+score       rule engine, risk score and state update on decoded events
 *   processBatch      the whole batch path with the in-memory state store, batches of 5,000
 * Run: node --import tsx benchmarks/processor-stage.ts [events] [stages|processBatch]
 * A batch's outputs live until the batch ends, so a young generation that holds a few batches
 * matters: compare with `node --max-semi-space-size=64 --import tsx ...` (about +20 % here).
 */
import { MemoryStateStore } from '../src/adapters/memory/state-store.ts'
import { createProcessor, loadRuleSet, processorOptions } from '../src/apps/processor/index.ts'
import type { PaymentEvent } from '../src/domain/event.ts'
import {
  applyTransaction,
  CustomerState,
  insertionIndex,
  RecentTxn,
  transactionKey
} from '../src/domain/rules/customer-state.ts'
import { RuleEngine } from '../src/domain/rules/engine.ts'
import type { RuleContext } from '../src/domain/rules/evaluators.ts'
import { riskScore } from '../src/domain/scoring.ts'
import { validateEvent } from '../src/domain/validate.ts'
import type { LogRecord } from '../src/ports/log.ts'
import { ManualClock } from '../src/stream/clock.ts'

const N = Number(process.argv[2] ?? 300_000)
/** Which stages to run (default all): e.g. `processBatch` alone. */
const ONLY = process.argv[3]
const BATCH = 5_000
const CUSTOMERS = 1_000
const START = Date.parse('2025-05-01T08:00:00Z')
/** Event-time gap between events: each customer pays every ~200 s, so few rules fire. */
const SPACING = 200

let seed = 42
function rand(): number {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff
  return seed / 0x7fffffff
}

/**
 * All events in one packed Buffer (plus their bounds), so the benchmark itself holds no
 * per-event objects: like a consumer, it creates the records of a batch when it hands it over.
 */
function makeEvents(n: number): { bytes: Buffer; ends: Int32Array } {
  const out: Buffer[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const amount = 50_000 + Math.floor(rand() * 1_950_000)
    const vat = Math.round(amount * 0.09)
    const commission = Math.round(amount * 0.02)
    const e: PaymentEvent = {
      transaction_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      timestamp: new Date(START + i * SPACING).toISOString(),
      customer_id: `cust_${Math.floor(rand() * CUSTOMERS)}`,
      card_id: 'card_0123456789abcdef',
      merchant_id: `merch_${Math.floor(rand() * 50)}`,
      merchant_category: 'retail',
      payment_method: 'mobile',
      amount,
      location: { lat: 35.6892 + (rand() - 0.5) * 0.2, lng: 51.389 + (rand() - 0.5) * 0.2 },
      device_info: { os: 'Android', app_version: '3.1.0', device_model: 'Samsung Galaxy S23' },
      status: 'approved',
      failure_reason: null,
      commission_type: 'progressive',
      commission_amount: commission,
      vat_amount: vat,
      total_amount: amount + vat + commission,
      customer_type: 'individual',
      risk_level: 2
    }
    out[i] = Buffer.from(JSON.stringify(e))
  }
  const ends = new Int32Array(n)
  let end = 0
  out.forEach((b, i) => (ends[i] = end += b.length))
  return { bytes: Buffer.concat(out), ends }
}

function rate(label: string, n: number, ms: number): void {
  console.log(
    `${label.padEnd(18)} ${Math.round((n / ms) * 1000)
      .toLocaleString('en-US')
      .padStart(10)} events/s  (${n} in ${ms.toFixed(0)} ms)`
  )
}

const packed = makeEvents(N)
const valueOf = (i: number): Buffer =>
  packed.bytes.subarray(i === 0 ? 0 : packed.ends[i - 1]!, packed.ends[i]!)
const ingestion = (i: number): number => START + i * SPACING + 50
// Keyed by customer as on Kafka: 3 partitions, each customer on one of them.
const partitions = new Uint8Array(N)
const offsets = new Int32Array(N)
const nextOffset = [0, 0, 0]
for (let i = 0; i < N; i++) {
  const c = /"customer_id":"cust_(\d+)"/.exec(valueOf(i).toString('latin1'))
  partitions[i] = Number(c?.[1] ?? 0) % 3
  offsets[i] = nextOffset[partitions[i]!]!++
}
const HEADERS = Object.freeze({})
function batchOf(from: number, to: number): LogRecord[] {
  const out: LogRecord[] = []
  for (let i = from; i < to; i++) {
    out.push({
      topic: 'darooghe.transactions',
      partition: partitions[i]!,
      offset: offsets[i]!,
      key: null,
      value: valueOf(i),
      headers: HEADERS,
      timestamp: ingestion(i)
    })
  }
  return out
}

const ruleSet = loadRuleSet('default')

// 1. decode + validate
let t = performance.now()
if (ONLY === undefined || ONLY === 'stages') {
  const events: { e: PaymentEvent; t: number }[] = new Array(N)
  for (let i = 0; i < N; i++) {
    const v = validateEvent(JSON.parse(valueOf(i).toString('utf8')), ingestion(i))
    if (!v.ok) throw new Error('synthetic event invalid')
    events[i] = { e: v.event, t: v.eventTimeMs }
  }
  rate('decode+validate', N, performance.now() - t)

  // 2. rules + score
  const engine = new RuleEngine(ruleSet)
  const limits = { retentionMs: engine.historyMs + 30_000, maxRecent: 64, maxLocations: 20, maxMerchants: 20 }
  const customers = new Map<string, CustomerState>()
  const ctx: RuleContext = { customer: new CustomerState(), t: 0, amount: 0, lat: 0, lng: 0, pos: 0 }
  let fraud = 0
  t = performance.now()
  for (let i = 0; i < N; i++) {
    const { e, t: et } = events[i]!
    let c = customers.get(e.customer_id)
    if (!c) customers.set(e.customer_id, (c = new CustomerState()))
    ctx.customer = c
    ctx.t = et
    ctx.amount = e.amount
    ctx.lat = e.location.lat
    ctx.lng = e.location.lng
    ctx.pos = insertionIndex(c.recent, et)
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
    if (ev.fraud) fraud++
    applyTransaction(
      c,
      new RecentTxn(et, e.amount, ctx.lat, ctx.lng, transactionKey(e.transaction_id)),
      ctx.pos,
      e.merchant_id,
      limits
    )
  }
  rate('rules+score', N, performance.now() - t)
  console.log(`  (${fraud} fraud decisions in rules+score)`)
}

if (ONLY === undefined || ONLY === 'processBatch') {
  // 3. full processBatch: a warm-up pass (JIT), then a measured pass on a fresh processor.
  const run = async (measure: boolean): Promise<void> => {
    const clock = new ManualClock(ingestion(0))
    const processor = createProcessor({
      store: new MemoryStateStore(),
      ruleSet,
      clock,
      options: processorOptions()
    })
    const perBatch: number[] = []
    let outputs = 0
    let bytes = 0
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    for (let i = 0; i < N; i += BATCH) {
      clock.set(ingestion(Math.min(N, i + BATCH) - 1) + 5)
      const b0 = performance.now()
      const r = await processor.processBatch(batchOf(i, Math.min(N, i + BATCH)))
      perBatch.push((r.stats.records / (performance.now() - b0)) * 1000)
      outputs += r.outputs.length
      if (i === 0) for (const o of r.outputs) bytes += (o.value as Buffer).length
    }
    if (!measure) return
    const cpu = process.cpuUsage(cpu0)
    rate('processBatch', N, performance.now() - t0)
    // CPU time of the process (GC helper threads included): steadier than wall time on a shared machine.
    rate('  per CPU second', N, (cpu.user + cpu.system) / 1000)
    perBatch.sort((a, b) => a - b)
    const median = Math.round(perBatch[perBatch.length >> 1]!).toLocaleString('en-US')
    console.log(`${'  median batch'.padEnd(18)} ${median.padStart(10)} events/s  (batches of ${BATCH})`)
    console.log(`  (${outputs} outputs; ~${Math.round(bytes / BATCH)} bytes per decision)`)
  }
  await run(false)
  await run(true)
}
