import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import { FraudLogic } from '../../src/apps/processor/fraud-logic.ts'
import { processorOptions } from '../../src/apps/processor/options.ts'
import type { Prepared, Result } from '../../src/apps/processor/records.ts'
import { ERROR, LogicStats } from '../../src/apps/processor/records.ts'
import { STORES } from '../../src/apps/processor/stores.ts'
import { loadRuleSet } from '../../src/apps/processor/load-rules.ts'
import { RuleEngine } from '../../src/domain/rules/engine.ts'
import type { LogRecord, OutRecord } from '../../src/ports/log.ts'
import { ManualClock } from '../../src/stream/clock.ts'
import { ByteSlab } from '../../src/bytes/index.ts'
import { StreamTask, type KeyRequests, type TaskContext } from '../../src/stream/task.ts'
import { TopologyDriver, parseOut, type Out } from './driver.ts'
import { makeEvent, T0, toRecords } from './fixtures.ts'

const ERRORS = 'darooghe.error_logs'

/** Seven payments of one customer within two minutes (velocity fires from the sixth), and others. */
function ordinary(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (let i = 0; i < 7; i++) out.push({ ...makeEvent({ t: T0 + i * 10_000, customer_id: 'cust_burst' }) })
  // Other customers, after the burst in event time.
  for (let i = 0; i < 5; i++)
    out.push({ ...makeEvent({ t: T0 + 70_000 + i * 1_000, customer_id: `cust_${i}` }) })
  return out
}

/** Every class of hostile record, as bytes: each must become one error record. */
function hostile(): { name: string; value: Buffer | null; reason: RegExp }[] {
  const good = JSON.stringify(makeEvent({ customer_id: 'cust_hostile' }))
  const deep = '{"a":'.repeat(4_999) + '{}' + '}'.repeat(4_999)
  return [
    {
      name: 'device_info nested 5,000 deep',
      value: Buffer.from(good.slice(0, -1) + `,"extra":${deep}}`),
      reason: /--max-depth 32/
    },
    {
      name: 'arrays nested 5,000 deep',
      value: Buffer.from('['.repeat(5_000) + ']'.repeat(5_000)),
      reason: /--max-depth 32/
    },
    {
      name: 'a 100,000-character string',
      value: Buffer.from(JSON.stringify({ ...JSON.parse(good), merchant_id: 'm'.repeat(100_000) })),
      reason: /--max-event-bytes 65536/
    },
    {
      name: 'a 20,000-character string within the size limit',
      value: Buffer.from(JSON.stringify({ ...JSON.parse(good), card_id: 'c'.repeat(20_000) })),
      reason: /--max-string-bytes 8192/
    },
    {
      name: 'a number of 10,000 digits',
      value: Buffer.from(good.replace(/"amount":\d+/, `"amount":${'9'.repeat(10_000)}`)),
      reason: /--max-string-bytes 8192/
    },
    {
      name: '2,000 fields',
      value: Buffer.from(JSON.stringify({ ...JSON.parse(good), device_info: fieldsObject(2_000) })),
      reason: /--max-fields 1000/
    },
    { name: 'invalid UTF-8', value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), reason: /not valid UTF-8/ },
    { name: 'the empty record', value: Buffer.alloc(0), reason: /not valid JSON/ },
    { name: 'no value (tombstone)', value: null, reason: /record has no value/ },
    { name: 'a JSON array', value: Buffer.from('[1,2,3]'), reason: /event is not a JSON object/ },
    { name: 'a number', value: Buffer.from('42'), reason: /event is not a JSON object/ },
    { name: 'truncated', value: Buffer.from(good.slice(0, 60)), reason: /not valid JSON/ },
    {
      name: '__proto__ with pollution',
      value: Buffer.from('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}'),
      reason: /__proto__/
    },
    {
      name: 'NaN spelled',
      value: Buffer.from(good.replace(/"amount":\d+/, '"amount":NaN')),
      reason: /not valid JSON/
    },
    {
      name: 'Infinity as a huge exponent',
      value: Buffer.from(good.replace(/"amount":\d+/, '"amount":1e400')),
      reason: /must be numbers/
    },
    {
      name: 'a valid event with a __proto__ key in device_info',
      value: Buffer.from(good.replace('"device_info":{}', '"device_info":{"__proto__":{"polluted":1}}')),
      reason: /a \\"__proto__\\" key at byte/
    },
    { name: 'a BOM and control bytes', value: Buffer.from('\ufeff\u0001{}'), reason: /not valid JSON/ }
  ]
}

function fieldsObject(n: number): Record<string, number> {
  const o: Record<string, number> = {}
  for (let i = 0; i < n; i++) o[`k${i}`] = i
  return o
}

/** A decision without what legitimately differs between two runs: where the record stood, and when. */
function decisionOf(o: Out): unknown {
  const {
    processed_at: _p,
    processing_latency_ms: _l,
    source: _s,
    ...rest
  } = o.value as Record<string, unknown>
  return { topic: o.topic, key: o.key, ...rest }
}

test('hostile records interleaved with ordinary ones: one error record each, naming the reason; ordinary events decide as they do alone', async () => {
  const events = ordinary()
  const clean = await new TopologyDriver().pipe(toRecords(events))
  const evil = hostile()
  // Ordinary, hostile, ordinary, hostile, ...: every hostile record sits between two payments.
  const values: (Buffer | null)[] = []
  const order: ('event' | number)[] = []
  events.forEach((e, i) => {
    values.push(Buffer.from(JSON.stringify(e)))
    order.push('event')
    if (i < evil.length) {
      values.push(evil[i]!.value)
      order.push(i)
    }
  })
  for (let i = events.length; i < evil.length; i++) {
    values.push(evil[i]!.value)
    order.push(i)
  }
  const records: LogRecord[] = values.map((value, offset) => ({
    topic: 'darooghe.transactions',
    partition: 0,
    offset,
    key: null,
    value,
    headers: {},
    timestamp: T0 + 60_000
  }))
  const outs = await new TopologyDriver().pipe(records)

  const errors = outs.filter(o => o.topic === ERRORS)
  assert.equal(errors.length, evil.length, 'one error record per hostile record')
  order.forEach((what, offset) => {
    if (what === 'event') return
    const h = evil[what]!
    const e = errors.find(o => o.value.source.offset === offset)
    assert.ok(e, `${h.name}: an error record at offset ${offset}`)
    assert.deepEqual(e.value.error_codes, ['ERR_SCHEMA'], h.name)
    assert.match(JSON.stringify(e.value.issues), h.reason, h.name)
    if (e.value.original_base64 !== null) {
      const kept = Buffer.from(e.value.original_base64 as string, 'base64')
      assert.ok(kept.length <= 65_536, `${h.name}: the kept bytes are bounded`)
      assert.equal(e.value.original_truncated === true, (h.value?.length ?? 0) > 65_536, h.name)
      assert.deepEqual(kept, h.value!.subarray(0, 65_536), `${h.name}: its bytes are kept`)
    }
  })
  assert.deepEqual(
    outs.filter(o => o.topic !== ERRORS).map(decisionOf),
    clean.map(decisionOf),
    'every ordinary event decides exactly as it does without the hostile records around it'
  )
  assert.ok(
    clean.some(o => o.value.decision === 'fraud'),
    'the ordinary stream has state-dependent decisions'
  )
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('file mode: a line beyond the size limit is one error record, kept to the limit', async () => {
  const { readNdjsonBatches } = await import('../../src/adapters/file/ndjson-source.ts')
  const { Readable } = await import('node:stream')
  const good = JSON.stringify(makeEvent({ t: T0 }))
  const huge = '{"s":"' + 'x'.repeat(300_000) + '"}'
  // Chunks of 1 KiB, so the long line spans hundreds of them.
  const text = Buffer.from(`${good}\n${huge}\n${good.replace('txn-', 'txn-b')}\n`)
  const chunks: Buffer[] = []
  for (let i = 0; i < text.length; i += 1024) chunks.push(text.subarray(i, i + 1024))
  const lines: LogRecord[] = []
  for await (const batch of readNdjsonBatches(Readable.from(chunks), {
    maxLineBytes: 65_536,
    timestamp: T0 + 60_000
  }))
    lines.push(...batch)
  assert.deepEqual(
    lines.map(r => [r.offset, r.value!.length]),
    [
      [1, good.length],
      [2, 65_537],
      [3, good.length + 1]
    ]
  )
  const outs = await new TopologyDriver().pipe(lines)
  assert.deepEqual(
    outs.map(o => o.topic),
    ['darooghe.transactions.approved', ERRORS, 'darooghe.transactions.approved']
  )
  assert.match(
    outs[1]!.value.issues[0].message,
    /--max-event-bytes 65536: the record has more than 65536 bytes/
  )
  assert.equal(outs[1]!.value.original_truncated, true)
})

/** The fraud logic with a fault planted in one step, chosen by the record's `boom` header. */
class FaultyLogic extends FraudLogic {
  override prepare(record: LogRecord): Prepared {
    if (record.headers.boom === 'prepare') throw new TypeError('prepare failed')
    return super.prepare(record)
  }

  override requestKeys(p: Prepared, keys: KeyRequests): void {
    super.requestKeys(p, keys)
    if (p.ok && p.fields.customerId === 'cust_keys') throw new Error('requestKeys failed')
  }

  override process(p: Prepared, record: LogRecord, ctx: TaskContext): Result {
    if (record.headers.boom === 'process') throw new RangeError('Maximum call stack size exceeded')
    return super.process(p, record, ctx)
  }

  override render(r: Result, record: LogRecord, at: number, out: OutRecord[]): void {
    // A fault in rendering decisions: the error record the task renders instead still renders.
    if (record.headers.boom === 'render' && r.kind !== ERROR) {
      out.push({ topic: 'half-written', key: null, value: 'x' })
      throw new Error('render failed')
    }
    super.render(r, record, at, out)
  }
}

async function runTask(logic: FraudLogic, records: LogRecord[], delivery: 'state-first' | 'outputs-first') {
  const options = processorOptions()
  const task = new StreamTask(logic, {
    store: new MemoryStateStore(),
    stores: STORES,
    clock: new ManualClock(T0 + 60_000),
    maxCachedEntries: options.maxCachedEntries,
    keyPrefix: '',
    delivery
  })
  logic.renderer.stats = new LogicStats()
  logic.renderer.slab = ByteSlab.forBatch(records.length, 1_200)
  const { outputs } = await task.run(records)
  await task.complete()
  return outputs.map(parseOut)
}

for (const delivery of ['state-first', 'outputs-first'] as const) {
  test(`a step that throws on one record makes it an ERR_INTERNAL error record; the batch goes on (${delivery})`, async () => {
    const rules = loadRuleSet('default')
    const events = ordinary()
    const faults = ['prepare', 'process', 'render', 'keys'] as const
    const records = toRecords([
      ...events,
      ...faults.map(f => makeEvent({ t: T0 + 80_000, customer_id: f === 'keys' ? 'cust_keys' : `cust_${f}` }))
    ])
    faults.forEach((f, i) => {
      const at = events.length + i
      records[at] = { ...records[at]!, headers: { boom: f } }
    })
    const make = (): FaultyLogic => new FaultyLogic(new RuleEngine(rules), processorOptions())
    const outs = await runTask(make(), records, delivery)
    assert.equal(
      outs.filter(o => o.topic === 'half-written').length,
      0,
      'a half-rendered output is withdrawn'
    )
    const errors = outs.filter(o => o.topic === ERRORS)
    assert.deepEqual(
      errors.map(e => [e.value.source.offset, e.value.error_codes, e.value.transaction_id]),
      faults.map((_, i) => [
        events.length + i,
        ['ERR_INTERNAL'],
        records[events.length + i]!.key ??
          JSON.parse(records[events.length + i]!.value!.toString()).transaction_id
      ])
    )
    assert.match(errors[0]!.value.issues[0].message, /processing failed: TypeError: prepare failed/)
    assert.match(errors[1]!.value.issues[0].message, /Maximum call stack size exceeded/)
    assert.match(errors[2]!.value.issues[0].message, /render failed/)
    assert.match(errors[3]!.value.issues[0].message, /requestKeys failed/)
    // The ordinary events decide as the plain logic decides them.
    const plain = await runTask(
      new FraudLogic(new RuleEngine(rules), processorOptions()),
      toRecords(events),
      delivery
    )
    assert.deepEqual(outs.filter(o => o.topic !== ERRORS).map(decisionOf), plain.map(decisionOf))
  })
}

test('a record whose error record cannot be rendered either is counted, and the batch goes on', async () => {
  class Hopeless extends FraudLogic {
    override render(r: Result, record: LogRecord, at: number, out: OutRecord[]): void {
      if (record.headers.boom === 'always') throw new Error('cannot render anything')
      super.render(r, record, at, out)
    }
  }
  const events = ordinary().slice(0, 3)
  const records = toRecords([...events, makeEvent({ t: T0 + 80_000, customer_id: 'cust_hopeless' })])
  records[3] = { ...records[3]!, headers: { boom: 'always' } }
  const logic = new Hopeless(new RuleEngine(loadRuleSet('default')), processorOptions())
  const options = processorOptions()
  const task = new StreamTask(logic, {
    store: new MemoryStateStore(),
    stores: STORES,
    clock: new ManualClock(T0 + 60_000),
    maxCachedEntries: options.maxCachedEntries,
    keyPrefix: ''
  })
  logic.renderer.stats = new LogicStats()
  logic.renderer.slab = ByteSlab.forBatch(records.length, 1_200)
  const { outputs, stats } = await task.run(records)
  assert.equal(stats.unreported, 1)
  assert.deepEqual(
    outputs.map(o => parseOut(o).value.transaction_id),
    events.map(e => e.transaction_id)
  )
})
