import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  forEachRecord,
  parseRecordObject,
  RecordFault,
  RejectCounter,
  type Rejection
} from '../../src/apps/guard/record-guard.ts'
import { checkKeys, outputLimits } from '../../src/domain/json-keys.ts'
import { checkRecordLimits, DEFAULT_LIMITS, truncatedBase64 } from '../../src/domain/limits.ts'
import { DaroogheError } from '../../src/errors.ts'
import type { Logger } from '../../src/logger.ts'
import { silentLogger } from '../../src/logger.ts'
import { deepObject, hostileValues, prototypeIsClean } from '../helpers/hostile.ts'
import { UndecodableBatchRecord } from '../../src/ports/log.ts'

const ALERT = {
  alert_id: 'alert-tx-1',
  created_at: '2026-01-01T00:00:00.000Z',
  severity: 'high',
  customer_id: 'cust_1',
  transaction_id: 'tx-1',
  risk_score: 90,
  rules_fired: ['velocity'],
  trace: { velocity: { count: 6 } },
  decision: 'fraud'
}

function kindOf(value: Buffer | null, options: Parameters<typeof parseRecordObject>[1] = {}): string {
  try {
    parseRecordObject(value, options)
    return 'ok'
  } catch (error) {
    assert.ok(error instanceof RecordFault, String(error))
    assert.ok(!error.message.includes('\n'), 'one line')
    return error.kind
  }
}

test('parseRecordObject: each hostile class is a RecordFault of its own kind, never another throw', () => {
  const kinds = Object.fromEntries(hostileValues(ALERT).map(h => [h.name, kindOf(h.value)]))
  assert.deepEqual(kinds, {
    'nested 5,000 deep': 'max-depth',
    'a 100,000-character string': 'max-event-bytes',
    'invalid UTF-8': 'not_utf8',
    'an empty value': 'no_value',
    'a null value': 'no_value',
    ['__proto__']: 'forbidden_key',
    '__proto__ in a valid record': 'forbidden_key',
    'a JSON array': 'not_object',
    'a number': 'not_object',
    'truncated JSON': 'not_json',
    'a duplicate key': 'duplicate_key',
    NaN: 'not_json',
    Infinity: 'not_json',
    '-Infinity': 'not_json'
  })
  assert.equal(kindOf(Buffer.from(JSON.stringify(ALERT))), 'ok')
  assert.ok(prototypeIsClean())
})

test('parseRecordObject: with last-wins, a repeated key is the last one; __proto__ is still refused', () => {
  const v = parseRecordObject(Buffer.from('{"decision":"approved","amount":1,"decision":"fraud"}'), {
    duplicateKeys: 'last-wins'
  })
  assert.equal(v.decision, 'fraud')
  assert.equal(kindOf(Buffer.from('{"a":1,"__proto__":{}}'), { duplicateKeys: 'last-wins' }), 'forbidden_key')
  // Escaped spellings are the same key.
  assert.equal(
    kindOf(Buffer.from('{"\\u005f_proto__":{"polluted":1}}'), { duplicateKeys: 'last-wins' }),
    'forbidden_key'
  )
  assert.equal(kindOf(Buffer.from('{"a":1,"\\u0061":2}')), 'duplicate_key')
})

test('checkKeys: keys in nested objects and arrays, strings that only look like keys', () => {
  assert.equal(
    checkKeys(Buffer.from('{"a":{"b":1,"c":[{"b":2},{"b":3}]},"b":"a"}'), { duplicates: 'reject' }),
    null
  )
  assert.equal(
    checkKeys(Buffer.from('{"a":["x","x"],"s":"\\"a\\":1,\\"a\\":2"}'), { duplicates: 'reject' }),
    null
  )
  assert.equal(
    checkKeys(Buffer.from('[{"k":1},{"k":1,"k":2}]'), { duplicates: 'reject' })?.kind,
    'duplicate_key'
  )
  assert.equal(checkKeys(Buffer.from('{"v":"__proto__"}'), { duplicates: 'reject' }), null)
  assert.equal(
    checkKeys(Buffer.from('{"x":[{"__proto__":1}]}'), { duplicates: 'last-wins' })?.kind,
    'forbidden_key'
  )
})

test('outputLimits: an error record of the largest non-JSON event the processor takes is within them', () => {
  const event = Buffer.alloc(DEFAULT_LIMITS.maxEventBytes, 0x41)
  const original = truncatedBase64(event, DEFAULT_LIMITS.maxEventBytes)
  const record = JSON.stringify({
    error_codes: ['ERR_SCHEMA'],
    issues: [{ code: 'ERR_SCHEMA', field: null, message: 'not JSON' }],
    transaction_id: null,
    customer_id: null,
    original: null,
    original_base64: original.base64,
    source: { topic: 'darooghe.transactions', partition: 0, offset: 1 },
    ingestion_time: '2026-01-01T00:00:00.000Z',
    processed_at: '2026-01-01T00:00:00.000Z'
  })
  assert.equal(checkRecordLimits(Buffer.from(record), outputLimits()), null)
  assert.notEqual(checkRecordLimits(Buffer.from(record), DEFAULT_LIMITS), null, 'beyond the input limits')
  // ...and an event nested to the input's depth, carried one level down, too.
  const nested = `{"original":${deepObject(DEFAULT_LIMITS.maxDepth - 1).toString()}}`
  assert.equal(checkRecordLimits(Buffer.from(nested), outputLimits()), null)
  assert.notEqual(checkRecordLimits(deepObject(outputLimits().maxDepth + 1), outputLimits()), null)
})

const at = (offset: number) => ({ topic: 't', partition: 0, offset })

test('forEachRecord: a throw rejects its record and the loop goes on; a retriable one propagates', () => {
  const done: number[] = []
  const rejected: Rejection[] = []
  forEachRecord(
    [at(0), at(1), at(2), at(3)],
    r => {
      if (r.offset === 1) throw new RecordFault('shape', 'not an alert: no alert_id')
      if (r.offset === 2) throw new TypeError("Cannot read properties of undefined (reading 'x')")
      done.push(r.offset)
    },
    r => rejected.push(r)
  )
  assert.deepEqual(done, [0, 3])
  assert.deepEqual(rejected, [
    { topic: 't', partition: 0, offset: 1, kind: 'shape', reason: 'not an alert: no alert_id' },
    {
      topic: 't',
      partition: 0,
      offset: 2,
      kind: 'failed',
      reason: "failed: Cannot read properties of undefined (reading 'x')"
    }
  ])
  const down = new DaroogheError('REDIS', 'Redis unreachable')
  assert.throws(
    () =>
      forEachRecord(
        [at(0)],
        () => {
          throw down
        },
        () => assert.fail('a retriable error is no rejection')
      ),
    down
  )
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  assert.throws(
    () =>
      forEachRecord(
        [at(0)],
        () => {
          throw reset
        },
        () => assert.fail('a network error is no rejection')
      ),
    reset
  )
})

test('RejectCounter: counts by kind, one warning each up to the cap, then a summary per 1,000', () => {
  const lines: { obj: Record<string, unknown>; msg: string }[] = []
  const log = {
    ...silentLogger,
    warn: (obj: Record<string, unknown>, msg: string) => void lines.push({ obj, msg })
  } as unknown as Logger
  const counter = new RejectCounter({ log, reader: 'test', maxWarnings: 3, summaryEvery: 1_000 })
  for (let i = 0; i < 2_003; i++) counter.add({ ...at(i), kind: i % 2 ? 'not_json' : 'shape', reason: 'r' })
  assert.equal(counter.total, 2_003)
  assert.deepEqual(counter.toJSON(), { total: 2_003, by_kind: { shape: 1_002, not_json: 1_001 } })
  assert.deepEqual(
    lines.map(l => l.msg),
    [
      'record rejected',
      'record rejected',
      'record rejected (further rejections are summarised)',
      'records rejected',
      'records rejected'
    ]
  )
  assert.deepEqual(lines[0]!.obj, {
    reader: 'test',
    topic: 't',
    partition: 0,
    offset: 0,
    kind: 'shape',
    reason: 'r'
  })
})

test('forEachRecord: a batch the consumer could not decode is one rejection naming it; the records around it are worked', () => {
  const batch = new UndecodableBatchRecord(
    {
      reason: 'decompress_failed',
      topic: 'decisions',
      partition: 2,
      baseOffset: 10,
      lastOffset: 14,
      codec: 'zstd',
      cause: 'invalid zstd data'
    },
    0
  )
  const plain = (offset: number) => ({ topic: 'decisions', partition: 2, offset, value: null })
  const worked: number[] = []
  const rejected: Rejection[] = []
  forEachRecord(
    [plain(9), batch, plain(15)],
    r => void worked.push(r.offset),
    r => void rejected.push(r)
  )
  assert.deepEqual(worked, [9, 15])
  assert.deepEqual(rejected, [
    {
      topic: 'decisions',
      partition: 2,
      offset: 14,
      kind: 'undecodable_batch',
      reason:
        'record batch at offsets 10-14 (compression zstd) could not be decoded: decompress_failed: invalid zstd data'
    }
  ])
})
