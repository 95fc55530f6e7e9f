import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { formatOutputLine, readNdjsonBatches } from '../../src/adapters/file/index.ts'
import { runFileDetect, type DetectFlags } from '../../src/cli/commands/detect.ts'
import { makeEvent, T0 } from './fixtures.ts'

const run = promisify(execFile)
const BIN = new URL('../../bin/darooghe.js', import.meta.url).pathname

function flags(over: Partial<DetectFlags>): DetectFlags {
  return {
    output: '-',
    rules: 'default',
    allowedLateness: '30s',
    alertThreshold: '80',
    maxEventAge: '1d',
    maxClockSkew: '60s',
    batchSize: '5000',
    quiet: true,
    ...over
  }
}

test('NDJSON lines become records: offset = line number, bytes kept, CRLF and blank lines handled, across chunk boundaries', async () => {
  const text = Buffer.concat([
    Buffer.from('{"a":1}\r\n\n{"b":'),
    Buffer.from([0xff]),
    Buffer.from('2}\n{"c":3}')
  ])
  // Feed it in 3-byte chunks so that lines and the CRLF are split between chunks.
  const chunks = Array.from({ length: Math.ceil(text.length / 3) }, (_, i) => text.subarray(i * 3, i * 3 + 3))
  const batches = []
  for await (const b of readNdjsonBatches(Readable.from(chunks), { batchSize: 2, timestamp: 42 }))
    batches.push(b)
  assert.deepEqual(
    batches.map(b => b.length),
    [2, 1]
  )
  const recs = batches.flat()
  assert.deepEqual(
    recs.map(r => r.offset),
    [1, 3, 4]
  )
  assert.deepEqual(
    recs[1]!.value,
    Buffer.concat([Buffer.from('{"b":'), Buffer.from([0xff]), Buffer.from('2}')])
  )
  assert.equal(recs[0]!.value!.toString(), '{"a":1}')
  assert.deepEqual(
    recs.map(r => [r.topic, r.partition, r.timestamp]),
    [
      ['file', 0, 42],
      ['file', 0, 42],
      ['file', 0, 42]
    ]
  )
})

test('each output line carries topic, key and the value as JSON', () => {
  assert.equal(
    formatOutputLine({ topic: 't', key: 'k"1', value: Buffer.from('{"x":1}') }),
    '{"topic":"t","key":"k\\"1","value":{"x":1}}'
  )
  assert.equal(
    formatOutputLine({ topic: 't', key: null, value: '{"y":2}' }),
    '{"topic":"t","key":null,"value":{"y":2}}'
  )
})

test('darooghe detect --input/--output with --now: same input, same bytes out; every line routed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-detect-'))
  const input = join(dir, 'events.ndjson')
  const lines = [
    ...Array.from({ length: 7 }, (_, i) => JSON.stringify(makeEvent({ t: T0 + i * 10_000 }))),
    JSON.stringify({ ...makeEvent({ t: T0 }), total_amount: 1 }),
    'not json'
  ]
  writeFileSync(input, lines.join('\n') + '\n')
  const now = new Date(T0 + 120_000).toISOString()
  const args = ['detect', '--input', input, '--now', now, '--quiet']
  const a = await run(process.execPath, [BIN, ...args, '--output', join(dir, 'a.ndjson')])
  await run(process.execPath, [BIN, ...args, '--output', join(dir, 'b.ndjson')])
  assert.equal(a.stderr, '')
  const out = readFileSync(join(dir, 'a.ndjson'), 'utf8')
  assert.equal(out, readFileSync(join(dir, 'b.ndjson'), 'utf8'))
  const parsed = out
    .trimEnd()
    .split('\n')
    .map(l => JSON.parse(l) as { topic: string; value: { processing_latency_ms?: number } })
  assert.deepEqual(
    parsed.map(p => p.topic),
    [
      ...Array(5).fill('darooghe.transactions.approved'),
      'darooghe.transactions.fraud',
      'darooghe.fraud_alerts',
      'darooghe.transactions.fraud',
      'darooghe.fraud_alerts',
      'darooghe.error_logs',
      'darooghe.error_logs'
    ]
  )
  assert.equal(parsed[0]!.value.processing_latency_ms, 0)
  // stdin to stdout works the same way.
  const piped = await run('sh', [
    '-c',
    `"${process.execPath}" "${BIN}" detect --input - --now ${now} -q < "${input}"`
  ])
  assert.equal(piped.stdout, out)
})

test('bad flags fail with one line naming the flag', async () => {
  await assert.rejects(
    runFileDetect(flags({ input: '/dev/null', allowedLateness: 'soon' })),
    /--allowed-lateness must be a duration like 30s/
  )
  await assert.rejects(
    runFileDetect(flags({ input: '/dev/null', now: 'today' })),
    /--now must be an ISO-8601 time/
  )
  await assert.rejects(
    runFileDetect(flags({ input: '/dev/null', rules: 'nope' })),
    /no rule set named 'nope'/
  )
  // Kafka mode checks its flags before connecting to anything.
  const r = await run(process.execPath, [BIN, 'detect', '--brokers', 'not-a-broker'], {
    timeout: 30_000
  }).catch((e: { stderr: string; code: number }) => e)
  assert.equal((r as { code: number }).code, 2)
  assert.match(
    (r as { stderr: string }).stderr,
    /^darooghe: --brokers: broker 'not-a-broker' is not host:port/
  )
})

test("backtest on the generator's output: every injected scenario of the default rules is caught, errors get their code", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'darooghe-backtest-'))
  const events = join(dir, 'events.ndjson')
  const labels = join(dir, 'labels.ndjson')
  await run(process.execPath, [
    BIN,
    'generate',
    '--count',
    '20000',
    '--rate',
    'max',
    '--seed',
    '11',
    '--start',
    '2025-05-01T10:00:00Z',
    '--out',
    events,
    '--labels',
    labels
  ])
  const sum = await runFileDetect(
    flags({ input: events, output: join(dir, 'out.ndjson'), now: '2025-05-01T12:00:00Z', labels })
  )
  const by = new Map(sum.backtest!.labels.map(l => [l.label, l]))
  for (const label of ['velocity', 'impossible_travel', 'amount_anomaly']) {
    const l = by.get(label)!
    assert.ok(l.events > 0, label)
    assert.equal(l.caught, l.events, `${label}: ${l.caught}/${l.events}`)
    assert.equal(l.scenariosCaught, l.scenarios, label)
  }
  for (const label of [
    'invalid_amount',
    'invalid_time_future',
    'invalid_time_old',
    'invalid_device',
    'malformed_json'
  ]) {
    const l = by.get(label)
    if (l) assert.equal(l.caught, l.events, `${label}: ${l.caught}/${l.events}`)
  }
  const legit = by.get('legit')!
  assert.ok(
    legit.flaggedFraud / legit.events < 0.005,
    `false positives ${legit.flaggedFraud}/${legit.events}`
  )
})
