/** The fuzzing harness's own checks (test/fuzz/checks.ts) catch what they are for. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { processorOptions } from '../../src/apps/processor/index.ts'
import { kafkaProcessor } from '../fuzz/drive.ts'
import { checkOutputs, compareRuns, oracle, parseOutput, type Expected, type Origin } from '../fuzz/checks.ts'

const O = processorOptions({})
const T = O.topics
const c = { target: 'processor' as const, seed: 's', batch: [0, 3] as const, options: O }
const origin = (k: number | null): Origin => ({
  case: k,
  mutations: k === null ? ['clean'] : ['m'],
  payload: Buffer.from('x')
})
const src = (offset: number): string => `"source":{"topic":"t","partition":0,"offset":${offset}}`
const decision = (offset: number, id: string, kind: 'approved' | 'fraud', score = 0): string =>
  `{"transaction_id":"${id}","decision":"${kind}","risk_score":${score},"rules_fired":[],"trace":{},"processing_latency_ms":0,${src(offset)}}`
const error = (offset: number, code = 'ERR_SCHEMA'): string =>
  `{"error_codes":["${code}"],"issues":[{"code":"${code}","field":"$","message":"bad"}],${src(offset)},"processed_at":""}`
const valid = (offset: number, id: string, k: number | null = null): Expected => ({
  offset,
  origin: origin(k),
  valid: true,
  reason: '',
  transactionId: id
})
const invalid = (offset: number, k: number): Expected => ({
  offset,
  origin: origin(k),
  valid: false,
  reason: 'not JSON',
  transactionId: null
})
/** An output without the value's text: these are not shaped for the store (see the last test). */
const synthetic = (topic: string, v: string) => ({ ...parseOutput(topic, v), raw: undefined })
const checks = (
  expected: Expected[],
  outs: [string, string][],
  duplicates = 0,
  dups: number[] | null = null
): string[] =>
  checkOutputs(
    expected,
    outs.map(([topic, v]) => synthetic(topic, v)),
    { ...c, duplicates, duplicateOffsets: dups === null ? null : new Set(dups) }
  ).findings.map(f => `${f.check}@${f.case}`)

test('one output per record, routed as the reference validator says: nothing to report', () => {
  const expected = [valid(1, 'a'), invalid(2, 7), valid(3, 'fz-8', 8)]
  const outs: [string, string][] = [
    [T.approved, decision(1, 'a', 'approved')],
    [T.errors, error(2)],
    [T.fraud, decision(3, 'fz-8', 'fraud', 90)],
    [T.alerts, `{${src(3)}}`]
  ]
  assert.deepEqual(checks(expected, outs), [])
})

test('a missing output, a second one, a stray alert, routing against the reference, ERR_INTERNAL, not JSON', () => {
  const expected = [
    valid(1, 'a'),
    invalid(2, 7),
    valid(3, 'fz-8', 8),
    invalid(4, 9),
    invalid(5, 10),
    valid(6, 'b')
  ]
  const outs: [string, string][] = [
    [T.approved, decision(1, 'a', 'approved')],
    [T.errors, error(1)],
    [T.approved, decision(2, 'fz-7', 'approved')],
    [T.errors, error(3)],
    [T.errors, error(4, 'ERR_INTERNAL')],
    [T.alerts, `{${src(5)}}`],
    [T.errors, `{"error_codes":[${src(5)}`]
  ]
  assert.deepEqual(checks(expected, outs).sort(), [
    'accepted-invalid@7',
    'internal-error@9',
    'output-not-json@10',
    'rejected-valid@8',
    'several-outputs@null',
    'stray-alert@10',
    'unaccounted@null'
  ])
})

test('a record with no output is fine only as a duplicate the processor counted and named', () => {
  const expected = [valid(1, 'a'), valid(2, 'a')]
  const outs: [string, string][] = [[T.approved, decision(1, 'a', 'approved')]]
  assert.deepEqual(checks(expected, outs, 1, [2]), [])
  assert.deepEqual(checks(expected, outs, 0, []), ['no-output@null', 'unaccounted@null'])
  assert.deepEqual(checks([valid(1, 'a'), invalid(2, 4)], outs, 1, [2]), ['no-output@4'])
})

test('the differential check compares decisions, not processing time', () => {
  const run = (score: number, latency: number) =>
    checkOutputs(
      [valid(1, 'a')],
      [
        synthetic(
          T.fraud,
          decision(1, 'a', 'fraud', score).replace(
            '"processing_latency_ms":0',
            `"processing_latency_ms":${latency}`
          )
        )
      ],
      { ...c, duplicates: 0, duplicateOffsets: null }
    ).summaries
  const diff = (a: Map<number, string>, b: Map<number, string>) =>
    compareRuns(
      a,
      b,
      o => o,
      () => origin(null),
      c
    ).map(f => f.check)
  assert.deepEqual(diff(run(90, 0), run(90, 35)), [])
  assert.deepEqual(diff(run(90, 0), run(85, 0)), ['differential'])
})

test('the reference validator: limits, JSON.parse, validateEvent', () => {
  const ev = {
    transaction_id: 't1',
    timestamp: '2026-01-01T10:00:00.000Z',
    customer_id: 'c',
    merchant_id: 'm',
    merchant_category: 'retail',
    payment_method: 'pos',
    amount: 100,
    location: { lat: 35.7, lng: 51.4 },
    device_info: {},
    status: 'approved',
    commission_type: 'flat',
    commission_amount: 1,
    vat_amount: 9,
    total_amount: 110,
    customer_type: 'individual',
    risk_level: 1,
    failure_reason: null
  }
  const at = Date.parse('2026-01-01T10:00:01Z')
  assert.deepEqual(oracle(Buffer.from(JSON.stringify(ev)), at, O), {
    valid: true,
    reason: '',
    transactionId: 't1'
  })
  assert.equal(oracle(Buffer.from(JSON.stringify({ ...ev, amount: '100' })), at, O).valid, false)
  const deep = JSON.stringify({ ...ev, device_info: 'X' }).replace(
    '"X"',
    '{"a":'.repeat(40) + '1' + '}'.repeat(40)
  )
  assert.match(oracle(Buffer.from(deep), at, O).reason, /max-depth/)
  assert.equal(oracle(null, at, O).valid, false)
})

test('an output the store would refuse is reported: the readers accept whatever the processor writes', async () => {
  const ev = {
    transaction_id: 't1',
    timestamp: '2026-01-01T10:00:00.000Z',
    customer_id: 'c',
    merchant_id: 'm',
    merchant_category: 'retail',
    payment_method: 'pos',
    amount: 100,
    location: { lat: 35.7, lng: 51.4 },
    device_info: {},
    status: 'approved',
    commission_type: 'flat',
    commission_amount: 1,
    vat_amount: 9,
    total_amount: 110,
    customer_type: 'individual',
    risk_level: 1,
    failure_reason: null
  }
  const at = Date.parse('2026-01-01T10:00:01Z')
  const { outputs } = await kafkaProcessor(at).processBatch([
    {
      topic: 't',
      partition: 0,
      offset: 1,
      key: null,
      value: Buffer.from(JSON.stringify(ev)),
      headers: {},
      timestamp: at
    }
  ])
  const text = String(outputs[0]!.value)
  const run = (value: string) =>
    checkOutputs([valid(1, 't1')], [parseOutput(outputs[0]!.topic, value)], {
      ...c,
      duplicates: 0,
      duplicateOffsets: null
    }).findings.map(f => f.check)
  assert.deepEqual(run(text), [])
  assert.deepEqual(run(text.replace('{', '{"__proto__":{},')), ['downstream'])
})
