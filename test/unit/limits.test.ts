import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkRecordLimits,
  DEFAULT_LIMITS,
  parseJsonWithin,
  recordLimits,
  truncatedBase64,
  type RecordLimits
} from '../../src/domain/limits.ts'

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')
const limits = (o: Partial<RecordLimits>): RecordLimits => ({ ...DEFAULT_LIMITS, ...o })

function nested(depth: number, open = '{"a":', close = '}'): string {
  return open.repeat(depth - 1) + '{}' + close.repeat(depth - 1)
}

test('size: a record of exactly maxEventBytes passes, one byte more is named', () => {
  const l = limits({ maxEventBytes: 100 })
  const at = `{"s":"${'x'.repeat(100 - 8)}"}`
  assert.equal(at.length, 100)
  assert.equal(checkRecordLimits(bytes(at), l), null)
  const over = checkRecordLimits(bytes(`{"s":"${'x'.repeat(93)}"}`), l)
  assert.equal(over?.limit, 'max-event-bytes')
  assert.match(over!.message, /--max-event-bytes 100: the record has more than 100 bytes/)
  const far = checkRecordLimits(bytes(`{"s":"${'x'.repeat(200)}"}`), l)
  assert.match(far!.message, /the record has 208 bytes/)
})

test('depth: objects and arrays nest up to maxDepth, one more is named with its byte', () => {
  const l = limits({ maxDepth: 5 })
  assert.equal(checkRecordLimits(bytes(nested(5)), l), null)
  const v = checkRecordLimits(bytes(nested(6)), l)
  assert.equal(v?.limit, 'max-depth')
  assert.match(v!.message, /nesting reaches 6 at byte 25/)
  assert.equal(checkRecordLimits(bytes('[[[[[]]]]]'), l), null)
  assert.equal(checkRecordLimits(bytes('[[[[[[]]]]]]'), l)?.limit, 'max-depth')
  // Brackets inside strings are text, not nesting.
  assert.equal(checkRecordLimits(bytes(`{"a":"${'{['.repeat(50)}"}`), l), null)
  // Nor does an escaped quote end the string early.
  assert.equal(checkRecordLimits(bytes(`{"a":"\\"${'{'.repeat(50)}"}`), l), null)
})

test('depth: 100,000 levels are refused without recursion', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000)
  const v = checkRecordLimits(bytes(deep), limits({ maxEventBytes: 1 << 20 }))
  assert.equal(v?.limit, 'max-depth')
})

test('strings and literals: at most maxStringBytes as written, quotes and escapes included', () => {
  const l = limits({ maxStringBytes: 10 })
  assert.equal(checkRecordLimits(bytes('{"a":"12345678"}'), l), null) // 10 bytes with quotes
  assert.equal(checkRecordLimits(bytes('{"a":"123456789"}'), l)?.limit, 'max-string-bytes')
  assert.equal(checkRecordLimits(bytes('{"a":"\\n\\n\\n\\n"}'), l), null)
  assert.equal(checkRecordLimits(bytes('{"a":"\\n\\n\\n\\n\\n"}'), l)?.limit, 'max-string-bytes')
  assert.equal(checkRecordLimits(bytes('{"a":1234567890}'), l), null)
  const v = checkRecordLimits(bytes('{"a":12345678901}'), l)
  assert.equal(v?.limit, 'max-string-bytes')
  assert.match(v!.message, /a literal of 11 bytes at byte 5/)
  // Keys are strings too.
  assert.equal(checkRecordLimits(bytes(`{"${'k'.repeat(20)}":1}`), l)?.limit, 'max-string-bytes')
})

test('fields: object members and array elements over the whole record', () => {
  const l = limits({ maxFields: 4 })
  assert.equal(checkRecordLimits(bytes('{"a":1,"b":{"c":2,"d":3}}'), l), null) // a b c d
  assert.equal(checkRecordLimits(bytes('{"a":1,"b":{"c":2,"d":3,"e":4}}'), l)?.limit, 'max-fields')
  assert.equal(checkRecordLimits(bytes('[1,2,3,4]'), l), null)
  assert.equal(checkRecordLimits(bytes('[1,2,3,4,5]'), l)?.limit, 'max-fields')
  assert.equal(checkRecordLimits(bytes('[[],[],[],[]]'), l), null)
  assert.equal(checkRecordLimits(bytes('[ {} , {} , {} , {} , {} ]'), l)?.limit, 'max-fields')
  assert.equal(checkRecordLimits(bytes('[]'), l), null)
  assert.equal(checkRecordLimits(bytes('{"a":["x","y"],"b":"z"}'), l), null) // a, x, y, b
  assert.equal(checkRecordLimits(bytes('{"a":["x","y","w"],"b":"z"}'), l)?.limit, 'max-fields')
})

test('bytes that are not JSON pass the limits and fail at the parser, never throwing', () => {
  for (const s of ['', 'nul', '}}}}', ']]][[[', '"unterminated', '\\', '\u0000\u0001', '{"a":']) {
    assert.equal(checkRecordLimits(bytes(s)), null, JSON.stringify(s))
    const r = parseJsonWithin(bytes(s))
    assert.equal(r.ok, false, JSON.stringify(s))
  }
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])
  assert.equal(checkRecordLimits(invalidUtf8), null)
})

test('parseJsonWithin: parses within the limits, names the limit otherwise', () => {
  assert.deepEqual(parseJsonWithin('{"a":[1,2]}'), { ok: true, value: { a: [1, 2] } })
  assert.deepEqual(parseJsonWithin(bytes('{"a":1}')), { ok: true, value: { a: 1 } })
  const deep = parseJsonWithin(nested(5_000))
  assert.equal(deep.ok, false)
  assert.equal(deep.ok === false && deep.limit, 'max-depth')
  const empty = parseJsonWithin('')
  assert.deepEqual(empty, { ok: false, error: 'not JSON: empty payload', limit: null })
  const bad = parseJsonWithin('{"a":')
  assert.equal(bad.ok === false && bad.limit, null)
  assert.match(bad.ok === false ? bad.error : '', /^not JSON: /)
  // A __proto__ key is an own property of the result, not the prototype.
  const proto = parseJsonWithin('{"__proto__":{"polluted":1}}')
  assert.ok(proto.ok)
  assert.equal(Object.getPrototypeOf(proto.value), Object.prototype)
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})

test('truncatedBase64 keeps at most maxBytes and says when it cut', () => {
  const b = bytes('abcdefgh')
  assert.deepEqual(truncatedBase64(b, 100), { base64: b.toString('base64'), truncated: false })
  assert.deepEqual(truncatedBase64(b, 3), { base64: bytes('abc').toString('base64'), truncated: true })
})

test('recordLimits: overrides must be positive integers', () => {
  assert.deepEqual(recordLimits({ maxDepth: 8 }), { ...DEFAULT_LIMITS, maxDepth: 8 })
  assert.throws(() => recordLimits({ maxDepth: 0 }), /maxDepth must be a positive integer/)
  assert.throws(() => recordLimits({ maxFields: 1.5 }), /maxFields must be a positive integer/)
})

test('the byte scanner keeps to the limits: it never accepts what the slow path rejects', async () => {
  const { scanEvent } = await import('../../src/domain/event-scan.ts')
  const { DEFAULT_VALIDATION } = await import('../../src/domain/validate.ts')
  const t = Date.parse('2026-01-01T10:00:00Z')
  const event = (device: string): Buffer =>
    bytes(
      `{"transaction_id":"t1","timestamp":"2026-01-01T10:00:00Z","customer_id":"c1","merchant_id":"m1",` +
        `"merchant_category":"retail","payment_method":"mobile","amount":1000,"location":{"lat":35.7,"lng":51.4},` +
        `"device_info":${device},"status":"approved","commission_type":"flat","commission_amount":10,` +
        `"vat_amount":90,"total_amount":1100,"customer_type":"individual","risk_level":1,"failure_reason":null}`
    )
  const model = (n: number): string => `{"os":"iOS","device_model":"${'d'.repeat(n)}"}`
  const many = (n: number): string =>
    `{"os":"iOS",${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`
  const l = limits({ maxStringBytes: 600, maxFields: 40 })
  assert.notEqual(scanEvent(event(model(598)), t, DEFAULT_VALIDATION, l), null)
  assert.equal(checkRecordLimits(event(model(598)), l), null)
  assert.equal(scanEvent(event(model(599)), t, DEFAULT_VALIDATION, l), null)
  assert.equal(checkRecordLimits(event(model(599)), l)?.limit, 'max-string-bytes')
  // 17 top-level fields, lat and lng, os and n more: 40 with n = 20.
  assert.notEqual(scanEvent(event(many(20)), t, DEFAULT_VALIDATION, l), null)
  assert.equal(checkRecordLimits(event(many(20)), l), null)
  assert.equal(scanEvent(event(many(21)), t, DEFAULT_VALIDATION, l), null)
  assert.equal(checkRecordLimits(event(many(21)), l)?.limit, 'max-fields')
  const small = limits({ maxEventBytes: event(model(1)).length - 1 })
  assert.notEqual(
    scanEvent(event(model(1)), t, DEFAULT_VALIDATION, limits({ maxEventBytes: event(model(1)).length })),
    null
  )
  assert.equal(scanEvent(event(model(1)), t, DEFAULT_VALIDATION, small), null)
})

test('parseJsonWithin refuses bytes that are not UTF-8 instead of decoding them with replacement characters', () => {
  const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]) // {"a":"\xc3("}
  const r = parseJsonWithin(bad)
  assert.deepEqual(r, {
    ok: false,
    error: 'not valid UTF-8: the value holds invalid byte sequences',
    limit: null
  })
  assert.deepEqual(parseJsonWithin(Buffer.from('{"a":"é"}')), { ok: true, value: { a: 'é' } })
})
