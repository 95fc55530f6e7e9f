/**
 * Hostile records on the real Kafka, produced by clients nobody here wrote (kcat, the Java
 * client): the detector decides every ordinary event as it would without them, routes each
 * hostile record to the error topic with its reason, and never stops.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import type { GeneratedRecord } from '../../src/apps/generator/index.ts'
import type { LogRecord } from '../../src/ports/log.ts'
import { start, type Running } from '../helpers/cli.ts'
import { javaProduce } from '../helpers/java-client.ts'
import { KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'
import {
  clearStateAfter,
  detectorArgs,
  generate,
  type Json,
  makeTopics,
  parse,
  produceAll,
  readTopics,
  type Topics,
  waitCommitted
} from '../helpers/pipeline.ts'

const execFileP = promisify(execFile)
const PARTITIONS = 3

function startDetector(topics: Topics, group: string): Running {
  return start(['detect', ...detectorArgs(topics, group), '--batch-size', '500', '--log-level', 'warn'])
}

/** Text records kcat can carry (no delimiter inside), each with the reason its error names. */
function kcatRecords(): { value: string; reason: RegExp }[] {
  const good = JSON.stringify({
    transaction_id: 'hostile-base',
    timestamp: new Date().toISOString(),
    customer_id: 'cust_hostile',
    merchant_id: 'merch_1',
    merchant_category: 'retail',
    payment_method: 'online',
    amount: 1000,
    location: { lat: 35.7, lng: 51.4 },
    status: 'approved',
    commission_type: 'flat',
    commission_amount: 10,
    vat_amount: 90,
    total_amount: 1100,
    customer_type: 'individual',
    risk_level: 1,
    failure_reason: null
  })
  const deep = '{"a":'.repeat(4_999) + '{}' + '}'.repeat(4_999)
  const withField = (id: string, extra: string): string =>
    good.replace('hostile-base', id).slice(0, -1) + `,${extra}}`
  return [
    // The two records of the report: a 30 KB event nesting 5,000 deep, and a 100,000-character string.
    { value: withField('h-deep', `"device_info":${deep}`), reason: /--max-depth 32/ },
    { value: withField('h-long', `"note":"${'x'.repeat(100_000)}"`), reason: /--max-event-bytes 65536/ },
    { value: '['.repeat(3_000) + ']'.repeat(3_000), reason: /--max-depth 32/ },
    { value: withField('h-num', `"n":${'9'.repeat(9_000)}`), reason: /--max-string-bytes 8192/ },
    {
      value: withField(
        'h-fields',
        `"device_info":{${Array.from({ length: 1_200 }, (_, i) => `"k${i}":1`).join(',')}}`
      ),
      reason: /--max-fields 1000/
    },
    { value: good.replace('hostile-base', 'h-trunc').slice(0, 70), reason: /not valid JSON/ },
    {
      value: good.replace('hostile-base', 'h-nan').replace('"amount":1000', '"amount":NaN'),
      reason: /not valid JSON/
    },
    {
      value: good.replace('hostile-base', 'h-inf').replace('"amount":1000', '"amount":1e999'),
      reason: /must be numbers/
    },
    {
      value: '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      reason: /__proto__/
    },
    {
      value: good.replace('hostile-base', 'h-dup').replace('"amount":1000', '"amount":1000,"amount":"x"'),
      reason: /must be numbers/
    },
    { value: '[1,2,3]', reason: /not a JSON object/ },
    { value: '12345', reason: /not a JSON object/ },
    { value: '\ufeff' + good.replace('hostile-base', 'h-bom'), reason: /not valid JSON/ }
  ]
}

/** Bytes only the Java client sends here: no value, an empty value, invalid UTF-8, control bytes. */
const JAVA_RECORDS: { value: Buffer | null; reason: RegExp }[] = [
  { value: null, reason: /record has no value/ },
  { value: Buffer.alloc(0), reason: /not valid JSON/ },
  { value: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), reason: /not valid UTF-8/ },
  { value: Buffer.from('\u0000\u0001\u0002{}\n\r'), reason: /not valid JSON/ }
]

async function kcatProduce(topic: string, values: readonly string[], partition: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'darooghe-kcat-'))
  try {
    const delimiter = '@@RECORD@@'
    const file = join(dir, 'records')
    await writeFile(file, values.join(delimiter) + delimiter)
    await execFileP('kcat', [
      '-b',
      KAFKA_BROKERS.join(','),
      '-P',
      '-t',
      topic,
      '-p',
      String(partition),
      '-D',
      delimiter,
      '-l',
      file
    ])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A decision as the rules made it: without when, how fast and where it was read. */
function content(v: Json): string {
  const { processed_at: _a, processing_latency_ms: _b, source: _c, ...rest } = v
  return JSON.stringify(rest)
}

async function decisionsOf(topics: Topics, expected: number): Promise<Map<string, string>> {
  const outs = await readTopics([topics.approved, topics.fraud], recs => recs.length >= expected)
  const byId = new Map<string, string>()
  for (const r of outs) byId.set(parse(r).transaction_id as string, content(parse(r)))
  return byId
}

const VALID_LABELS = new Set([
  'invalid_amount',
  'invalid_time_future',
  'invalid_time_old',
  'invalid_device',
  'invalid_schema',
  'malformed_json'
])

test('hostile records from kcat and the Java client among generator events: each is an error record with its reason, every ordinary event decides as it does without them', async t => {
  const events = generate(3_000, 'hostile-detector')
  const valid = events.filter((r: GeneratedRecord) => !VALID_LABELS.has(r.label))
  const noisy = await makeTopics(t, PARTITIONS)
  const clean = await makeTopics(t, PARTITIONS)
  const hostileText = kcatRecords()

  // The noisy topic: events, then hostile records in every partition, then more events, hostile again.
  const half = Math.floor(events.length / 2)
  await produceAll(noisy.input, events.slice(0, half))
  for (let p = 0; p < PARTITIONS; p++)
    await kcatProduce(
      noisy.input,
      hostileText.map(h => h.value),
      p
    )
  await javaProduce(
    noisy.input,
    JAVA_RECORDS.map(h => ({ partition: 0, key: null, value: h.value }))
  )
  await produceAll(noisy.input, events.slice(half))
  await javaProduce(
    noisy.input,
    JAVA_RECORDS.map(h => ({ partition: PARTITIONS - 1, key: null, value: h.value }))
  )
  await produceAll(clean.input, events)

  const noisyGroup = uniqueName('g-hostile')
  const cleanGroup = uniqueName('g-clean')
  clearStateAfter(t, noisyGroup)
  clearStateAfter(t, cleanGroup)
  const detector = startDetector(noisy, noisyGroup)
  const reference = startDetector(clean, cleanGroup)
  t.after(() => detector.child.kill('SIGKILL'))
  t.after(() => reference.child.kill('SIGKILL'))
  await waitCommitted(noisyGroup, noisy.input)
  await waitCommitted(cleanGroup, clean.input)
  assert.equal(detector.child.exitCode, null, `the detector is still running (stderr: ${detector.stderr})`)

  const hostileCount = hostileText.length * PARTITIONS + JAVA_RECORDS.length * 2
  const generatorErrors = events.length - valid.length
  const errors = await readTopics([noisy.errors], recs => recs.length >= hostileCount + generatorErrors)
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  t.after(() => admin.close())
  const inputEnds = await admin.endOffsets(noisy.input)
  assert.equal(
    inputEnds.reduce((a, b) => a + b, 0),
    events.length + hostileCount,
    'every record reached the topic'
  )
  // Each hostile record: one error record at its coordinates, naming its reason.
  const bySource = new Map<string, Json>()
  for (const r of errors) {
    const v = parse(r)
    const s = v.source as { partition: number; offset: number }
    assert.ok(!bySource.has(`${s.partition}:${s.offset}`), 'one error record per input record')
    bySource.set(`${s.partition}:${s.offset}`, v)
  }
  const hostileInputs: { partition: number; offset: number; value: Buffer | null }[] = []
  const inputs = await readTopics([noisy.input], recs => recs.length >= events.length + hostileCount)
  // Generator events carry their customer as key; the hostile records were sent without one.
  for (const r of inputs as LogRecord[]) {
    if (r.key === null) hostileInputs.push({ partition: r.partition, offset: r.offset, value: r.value })
  }
  assert.equal(hostileInputs.length, hostileCount)
  for (const h of hostileInputs) {
    const e = bySource.get(`${h.partition}:${h.offset}`)
    assert.ok(e, `an error record for the hostile record at ${h.partition}:${h.offset}`)
    const expected =
      hostileText.find(k => h.value !== null && h.value.equals(Buffer.from(k.value)))?.reason ??
      JAVA_RECORDS.find(j =>
        j.value === null ? h.value === null : h.value !== null && j.value.equals(h.value)
      )!.reason
    assert.match(JSON.stringify(e.issues), expected, `reason of the record at ${h.partition}:${h.offset}`)
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined)

  // Every ordinary event decided exactly as the run without hostile records decided it.
  const got = await decisionsOf(noisy, valid.length)
  const want = await decisionsOf(clean, valid.length)
  assert.equal(want.size, valid.length)
  for (const e of valid) assert.equal(got.get(e.transactionId), want.get(e.transactionId), e.transactionId)

  detector.child.kill('SIGTERM')
  assert.equal(await detector.exited, 0)
})

test('a poison record at the head of a partition: killed and restarted five times, the detector gets past it every time and never stops by itself', async t => {
  const topics = await makeTopics(t, 1)
  const group = uniqueName('g-poison')
  clearStateAfter(t, group)
  const deep = '{"device_info":' + '{"a":'.repeat(5_000) + '{}' + '}'.repeat(5_001)
  await kcatProduce(topics.input, [deep, deep], 0)
  const events = generate(400, 'poison-head')
  const valid = events.filter(r => !VALID_LABELS.has(r.label))
  await produceAll(topics.input, events)
  for (let round = 0; round < 5; round++) {
    const d = startDetector(topics, group)
    t.after(() => d.child.kill('SIGKILL'))
    // Killed as soon as its first outputs are out: sometimes before its commit, sometimes after.
    await waitFor(async () => (await readErrorsCount(topics)) > 0 || d.child.exitCode !== null, {
      what: 'the first error record',
      timeoutMs: 60_000,
      intervalMs: 50
    })
    assert.equal(d.child.exitCode, null, `round ${round}: still running (stderr: ${d.stderr})`)
    d.child.kill('SIGKILL')
    assert.equal(await d.exited, 'SIGKILL')
  }
  const last = startDetector(topics, group)
  t.after(() => last.child.kill('SIGKILL'))
  await waitCommitted(group, topics.input)
  assert.equal(last.child.exitCode, null, `still running (stderr: ${last.stderr})`)
  last.child.kill('SIGKILL')
  await last.exited
  const errors = await readTopics([topics.errors], recs => recs.length >= 2)
  const first = new Map<number, string>()
  for (const r of errors) {
    const v = parse(r)
    const offset = (v.source as { offset: number }).offset
    if (offset > 1) continue
    const bytes = r.value!.toString()
    const prev = first.get(offset)
    // A record redelivered after a kill is emitted again, byte for byte.
    if (prev !== undefined)
      assert.equal(bytes, prev, `error record for offset ${offset} re-emitted identically`)
    first.set(offset, bytes)
    assert.match(JSON.stringify(v.issues), /--max-depth 32/)
  }
  assert.deepEqual([...first.keys()].sort(), [0, 1])
  const decided = await decisionsOf(topics, valid.length)
  for (const e of valid) assert.ok(decided.has(e.transactionId), `${e.transactionId} decided`)
})

async function readErrorsCount(topics: Topics): Promise<number> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    return (await admin.endOffsets(topics.errors)).reduce((a, b) => a + b, 0)
  } finally {
    await admin.close()
  }
}
