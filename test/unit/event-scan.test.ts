import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createGenerator, INVALID_KINDS } from '../../src/apps/generator/index.ts'
import type { GeneratorOptions } from '../../src/apps/generator/index.ts'
import { scanEvent, ScannedEvent } from '../../src/domain/event-scan.ts'
import { Random } from '../../src/domain/random.ts'
import { DEFAULT_VALIDATION, validateEvent } from '../../src/domain/validate.ts'
import type { ValidationOptions } from '../../src/domain/validate.ts'

const START = Date.UTC(2026, 10, 22, 8, 0, 0)
const TYPICAL =
  '{"transaction_id":"8131e39d-00d3-4cd6-8f58-23275477a478","timestamp":"2026-11-22T11:48:52.491Z","customer_id":"cust_488","card_id":"card_e78ef32bd8fb0f20","merchant_id":"merch_20","merchant_category":"food_service","payment_method":"pos","amount":728796,"location":{"lat":35.778481,"lng":51.450419},"device_info":{},"status":"approved","commission_type":"progressive","commission_amount":12075,"vat_amount":65591,"total_amount":806462,"customer_type":"individual","risk_level":4,"failure_reason":null}'
const TYPICAL_MS = Date.UTC(2026, 10, 22, 11, 48, 52, 491)
const OPTION_SETS: readonly ValidationOptions[] = [
  DEFAULT_VALIDATION,
  { maxFutureSkewMs: 0, maxAgeMs: 1_000, amountTolerance: 0 },
  { maxFutureSkewMs: 5_000, maxAgeMs: 30 * 86_400_000, amountTolerance: 3_000 }
]

type Entries = [key: string, rawValue: string][]

/** The slow path: what JSON.parse + validateEvent make of the bytes, as a ScannedEvent, or null. */
function slowPath(bytes: Uint8Array, ingestionMs: number, options: ValidationOptions): ScannedEvent | null {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    return null
  }
  const v = validateEvent(value, ingestionMs, options)
  if (!v.ok) return null
  const e = value as Record<string, unknown>
  const location = e.location as Record<string, number>
  return new ScannedEvent(
    e.transaction_id as string,
    e.customer_id as string,
    e.merchant_id as string,
    e.amount as number,
    location.lat as number,
    location.lng as number,
    v.eventTimeMs
  )
}

const encode = (input: Uint8Array | string): Uint8Array =>
  typeof input === 'string' ? Buffer.from(input, 'utf8') : input

/**
 * scanEvent's answer after asserting the contract: null, or exactly what the slow path reads of
 * a valid event (deepStrictEqual compares numbers with Object.is, so -0 ≠ 0).
 */
function scanChecked(
  input: Uint8Array | string,
  ingestionMs: number,
  options: ValidationOptions = DEFAULT_VALIDATION
): ScannedEvent | null {
  const bytes = encode(input)
  const fast = scanEvent(bytes, ingestionMs, options)
  if (fast === null) return null
  const slow = slowPath(bytes, ingestionMs, options)
  const where = (): string =>
    `${Buffer.from(bytes).toString('utf8')} at ${ingestionMs} ${JSON.stringify(options)}`
  if (slow === null) assert.fail(`scanEvent accepted what the slow path rejects: ${where()}`)
  assert.deepEqual(fast, slow, where())
  return fast
}

const entriesOf = (line: string): Entries =>
  Object.entries(JSON.parse(line) as Record<string, unknown>).map(([k, v]) => [k, JSON.stringify(v)])
const join = (entries: Entries): string =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`

/** Sets `key`'s raw value (removes the key when `raw` is undefined, appends it when absent). */
function setEntry(entries: Entries, key: string, raw: string | undefined): Entries {
  const i = entries.findIndex(([k]) => k === key)
  if (raw === undefined) {
    if (i >= 0) entries.splice(i, 1)
  } else if (i >= 0) entries[i] = [key, raw]
  else entries.push([key, raw])
  return entries
}

const withField = (line: string, key: string, raw: string | undefined): string =>
  join(setEntry(entriesOf(line), key, raw))

/** A valid line with these raw values (the typical event otherwise). */
const typical = (fields: Record<string, string | undefined> = {}): string =>
  join(Object.entries(fields).reduce((entries, [k, v]) => setEntry(entries, k, v), entriesOf(TYPICAL)))

/** The typical event with amount = total = `raw` (no VAT, no commission), to carry a number. */
const carrying = (raw: string): string =>
  typical({ amount: raw, total_amount: raw, vat_amount: '0', commission_amount: '0' })

function generated(
  options: Partial<GeneratorOptions>
): { raw: string; eventTimeMs: number; label: string }[] {
  const g = createGenerator({ start: START, seed: 'event-scan', customers: 500, rate: 200, ...options })
  const out: { raw: string; eventTimeMs: number; label: string }[] = []
  for (let r = g.next(); r !== undefined; r = g.next())
    out.push({ raw: r.raw, eventTimeMs: r.eventTimeMs, label: r.label })
  return out
}

describe('scanEvent on generated events', () => {
  it('agrees with JSON.parse + validateEvent, and takes the fast path for ≥ 99% of valid events', () => {
    const records = [
      ...generated({ count: 20_000, history: 1_000 }),
      ...generated({ seed: 'event-scan-invalid', count: 8_000, invalidRate: 0.25, fraudRate: 0.1 })
    ]
    // Ingestion at the record's time, and around the skew and age limits of the default options.
    const offsets = [0, 0, 0, 1, -60_000, -60_001, 86_400_000, 86_400_001, 30_000]
    let valid = 0
    let fastOnValid = 0
    const invalidSeen = new Map<string, number>()
    records.forEach(({ raw, eventTimeMs, label }, i) => {
      const bytes = Buffer.from(raw)
      const offset = offsets[i % offsets.length] as number
      const ingestion = eventTimeMs + offset
      const options = OPTION_SETS[i % 7 === 0 ? 1 + (i % 2) : 0] as ValidationOptions
      const fast = scanChecked(bytes, ingestion, options)
      if (slowPath(bytes, ingestion, options) !== null) {
        valid++
        if (fast !== null) fastOnValid++
      }
      if ((INVALID_KINDS as readonly string[]).includes(label)) {
        invalidSeen.set(label, (invalidSeen.get(label) ?? 0) + 1)
        if (options === DEFAULT_VALIDATION && offset === 0) assert.equal(fast, null, `${label}: ${raw}`)
      }
    })
    assert.deepEqual([...invalidSeen.keys()].sort(), [...INVALID_KINDS].sort())
    assert.ok(valid > 20_000, `${valid} valid events`)
    assert.ok(fastOnValid >= 0.99 * valid, `fast path for ${fastOnValid} of ${valid} valid events`)
  })

  it('reads Buffer slices and plain Uint8Arrays within their bounds', () => {
    const backing = Buffer.from(`xx${TYPICAL}garbage`)
    const slice = backing.subarray(2, 2 + TYPICAL.length)
    const plain = new Uint8Array(backing.buffer, backing.byteOffset + 2, TYPICAL.length)
    for (const bytes of [slice, plain]) {
      const e = scanChecked(bytes, TYPICAL_MS)
      assert.ok(e !== null)
      assert.equal(e.transactionId, '8131e39d-00d3-4cd6-8f58-23275477a478')
    }
    assert.equal(scanChecked(backing.subarray(2, 2 + TYPICAL.length + 1), TYPICAL_MS), null)
    assert.equal(scanChecked(backing.subarray(2, 2 + TYPICAL.length - 1), TYPICAL_MS), null)
  })
})

describe('scanEvent on specific events', () => {
  it('reads the typical event', () => {
    assert.deepEqual(
      scanChecked(TYPICAL, TYPICAL_MS + 500),
      new ScannedEvent(
        '8131e39d-00d3-4cd6-8f58-23275477a478',
        'cust_488',
        'merch_20',
        728796,
        35.778481,
        51.450419,
        TYPICAL_MS
      )
    )
  })

  it('accepts what the subset allows', () => {
    const accepted: [string, string][] = [
      ['keys in another order', join(entriesOf(TYPICAL).reverse())],
      [
        'spaces and tabs between tokens',
        ` \t${TYPICAL.replaceAll(',"', ' ,\t"').replaceAll('":', '" : ')} \t`
      ],
      ['no millis', typical({ timestamp: '"2026-11-22T11:48:52Z"' })],
      ['card_id null', typical({ card_id: 'null' })],
      ['card_id absent', typical({ card_id: undefined })],
      ['card_id empty', typical({ card_id: '""' })],
      ['card_id of 256', typical({ card_id: JSON.stringify('c'.repeat(256)) })],
      ['device_info absent', typical({ device_info: undefined })],
      ['device_info null', typical({ device_info: 'null' })],
      ['failure_reason absent', typical({ failure_reason: undefined })],
      ['declined', typical({ status: '"declined"', failure_reason: '"insufficient_funds"' })],
      [
        'mobile on iOS',
        typical({ payment_method: '"mobile"', device_info: '{"os":"iOS","app_version":"2.4.1"}' })
      ],
      [
        'mobile on Android',
        typical({ payment_method: '"mobile"', device_info: '{"device_model":"x","os":"Android"}' })
      ],
      [
        'a number in device_info',
        typical({ payment_method: '"mobile"', device_info: '{"os":"iOS","build":42}' })
      ],
      ['os Windows when not mobile', typical({ device_info: '{"os":"Windows"}' })],
      ['risk_level 5.0', typical({ risk_level: '5.0' })],
      ['ids of 256', typical({ transaction_id: JSON.stringify('t'.repeat(256)) })],
      ['one-character ids', typical({ customer_id: '"c"', merchant_id: '"m"' })],
      ['location reversed', typical({ location: '{"lng":51.45,"lat":35.7}' })],
      ['location -0', typical({ location: '{"lat":-0,"lng":-0.0}' })],
      ['location at the limits', typical({ location: '{"lat":-90,"lng":180}' })],
      ['total within the tolerance', typical({ total_amount: '806462.005' })]
    ]
    for (const [what, line] of accepted) assert.notEqual(scanChecked(line, TYPICAL_MS), null, what)
    const negativeZero = scanChecked(typical({ location: '{"lat":-0,"lng":-0.0}' }), TYPICAL_MS)
    assert.ok(negativeZero !== null && Object.is(negativeZero.lat, -0) && Object.is(negativeZero.lng, -0))
  })

  it('accepts the leap day and reads its time', () => {
    const t = Date.UTC(2024, 1, 29, 23, 59, 59, 999)
    const e = scanChecked(typical({ timestamp: '"2024-02-29T23:59:59.999Z"' }), t + 1)
    assert.equal(e?.eventTimeMs, t)
    const e2000 = scanChecked(typical({ timestamp: '"2000-02-29T00:00:00Z"' }), Date.UTC(2000, 1, 29))
    assert.equal(e2000?.eventTimeMs, Date.UTC(2000, 1, 29))
  })

  it('reads years below 100 as written or not at all (Date.UTC would make 0099 into 1999)', () => {
    const line = typical({ timestamp: '"0099-11-22T11:48:52.491Z"' })
    assert.equal(scanChecked(line, Date.UTC(1999, 10, 22, 11, 48, 52, 491)), null)
    scanChecked(line, Date.parse('0099-11-22T11:48:52.491Z'))
    const e = scanChecked(
      typical({ timestamp: '"0100-03-01T00:00:00Z"' }),
      Date.parse('0100-03-01T00:00:00Z')
    )
    assert.equal(e?.eventTimeMs, Date.parse('0100-03-01T00:00:00Z'))
  })

  it('applies the skew and age limits exactly as validateEvent', () => {
    const { maxFutureSkewMs, maxAgeMs } = DEFAULT_VALIDATION
    assert.notEqual(scanChecked(TYPICAL, TYPICAL_MS - maxFutureSkewMs), null)
    assert.equal(scanChecked(TYPICAL, TYPICAL_MS - maxFutureSkewMs - 1), null)
    assert.notEqual(scanChecked(TYPICAL, TYPICAL_MS + maxAgeMs), null)
    assert.equal(scanChecked(TYPICAL, TYPICAL_MS + maxAgeMs + 1), null)
  })

  it('answers null for invalid events and for anything outside the subset', () => {
    const rejected: [string, string][] = [
      ['unknown key', typical({ note: '"hi"' })],
      ['duplicate key, same value', TYPICAL.replace('"amount":728796,', '"amount":728796,"amount":728796,')],
      ['duplicate key, last one valid', TYPICAL.replace('"amount":728796,', '"amount":1,"amount":728796,')],
      ['duplicate os', typical({ payment_method: '"mobile"', device_info: '{"os":"Windows","os":"iOS"}' })],
      ['amount 0', typical({ amount: '0', total_amount: '77666' })],
      ['amount negative', typical({ amount: '-5', total_amount: '77661' })],
      ['amount -0', carrying('-0')],
      ['total off', typical({ total_amount: '806463' })],
      ['amount a string', typical({ amount: '"728796"' })],
      ['an exponent', typical({ amount: '7.28796e5' })],
      ['leading zero', typical({ risk_level: '04' })],
      ['bare fraction', typical({ location: '{"lat":.5,"lng":51}' })],
      ['trailing dot', typical({ location: '{"lat":5.,"lng":51}' })],
      ['mobile without os', typical({ payment_method: '"mobile"', device_info: '{"app_version":"2.4.1"}' })],
      ['mobile without device_info', typical({ payment_method: '"mobile"', device_info: undefined })],
      ['mobile on Windows', typical({ payment_method: '"mobile"', device_info: '{"os":"Windows"}' })],
      ['mobile on ios', typical({ payment_method: '"mobile"', device_info: '{"os":"ios"}' })],
      ['nested device_info', typical({ device_info: '{"screen":{"w":1}}' })],
      ['device_info an array', typical({ device_info: '[]' })],
      ['risk_level 2.5', typical({ risk_level: '2.5' })],
      ['risk_level 0', typical({ risk_level: '0' })],
      ['risk_level 6', typical({ risk_level: '6' })],
      ['transaction_id of 257', typical({ transaction_id: JSON.stringify('t'.repeat(257)) })],
      ['card_id of 257', typical({ card_id: JSON.stringify('c'.repeat(257)) })],
      ['empty customer_id', typical({ customer_id: '""' })],
      ['missing merchant_id', typical({ merchant_id: undefined })],
      ['missing location', typical({ location: undefined })],
      ['non-ASCII id', typical({ customer_id: '"cust_é"' })],
      ['escaped id', typical({ customer_id: '"cust_\\u0041"' })],
      ['unknown enum', typical({ merchant_category: '"casino"' })],
      ['failure_reason unknown', typical({ failure_reason: '"bad_luck"' })],
      ['month 13', typical({ timestamp: '"2026-13-22T11:48:52.491Z"' })],
      ['Feb 30', typical({ timestamp: '"2026-02-30T11:48:52.491Z"' })],
      ['Feb 29 of a common year', typical({ timestamp: '"2026-02-29T11:48:52.491Z"' })],
      ['hour 24', typical({ timestamp: '"2026-11-22T24:00:00.000Z"' })],
      ['an offset', typical({ timestamp: '"2026-11-22T12:48:52.491+01:00"' })],
      ['epoch millis', typical({ timestamp: String(TYPICAL_MS) })],
      ['a line break', TYPICAL.replace(',"amount"', ',\n"amount"')],
      ['a trailing newline', `${TYPICAL}\n`],
      ['true', typical({ card_id: 'true' })],
      ['location with a third key', typical({ location: '{"lat":35,"lng":51,"alt":0}' })],
      ['two objects', TYPICAL + TYPICAL],
      ['an array', `[${TYPICAL}]`]
    ]
    for (const [what, line] of rejected) assert.equal(scanChecked(line, TYPICAL_MS), null, what)
  })
})

describe('scanEvent numbers', () => {
  it('converts exactly as JSON.parse, or answers null', () => {
    const mustRead = [
      '35.778481',
      '51.450419',
      '0.1',
      '90',
      '-180',
      '123456789.123456',
      '9007199254740992',
      '0.0000000000000000000001',
      '179.7693134862315',
      '4.35'
    ]
    const either = [
      '1.7976931348623157',
      '9007199254740993',
      '12345678901234567890',
      '0.00000000000000000000001',
      '1e2'
    ]
    for (const text of [...mustRead, ...either]) {
      const value = JSON.parse(text) as number
      // Carried by lng when in its range, else by the amount (and total).
      const inRange = Math.abs(value) <= 180
      const e = scanChecked(
        inRange ? typical({ location: `{"lat":0,"lng":${text}}` }) : carrying(text),
        TYPICAL_MS
      )
      if (mustRead.includes(text)) assert.ok(e !== null, text)
      if (e !== null) assert.ok(Object.is(inRange ? e.lng : e.amount, value), text)
    }
    assert.equal(scanChecked(typical({ location: '{"lat":0,"lng":-180}' }), TYPICAL_MS)?.lng, -180)
    // At the limit: digits forming 2^53 read, one more is left to JSON.parse.
    for (const [text, read] of [
      ['9007199254740991', true],
      ['9007199254740992', true],
      ['9007199254740993', false],
      ['9007199254740999', false],
      ['90071992547409920', false],
      ['900719925474099.2', true],
      ['900719925474099.3', false],
      ['90.07199254740992', true],
      ['90.07199254740993', false],
      ['1.0000000000000000000000', false]
    ] as const) {
      const e = scanChecked(carrying(text), TYPICAL_MS)
      assert.equal(e !== null, read, text)
      if (e !== null) assert.ok(Object.is(e.amount, JSON.parse(text)), text)
    }
  })

  it('random decimals whose digits make at most 2^53, with up to 22 fraction digits, all read exactly', () => {
    const r = new Random('event-scan-numbers')
    let read = 0
    let beyond = 0
    for (let i = 0; i < 30_000; i++) {
      const intDigits = r.int(0, 17)
      const fracDigits = r.chance(0.2) ? 0 : r.int(1, 23)
      if (intDigits + fracDigits > 17) continue
      let text = intDigits === 0 ? '0' : String(r.int(1, 9))
      for (let j = 1; j < intDigits; j++) text += String(r.int(0, 9))
      if (fracDigits > 0) {
        text += '.'
        for (let j = 0; j < fracDigits; j++) text += String(r.int(0, 9))
      }
      const value = JSON.parse(text) as number
      if (value === 0) continue
      const e = scanChecked(carrying(text), TYPICAL_MS)
      if (BigInt(text.replace('.', '')) > 2n ** 53n || fracDigits > 22) {
        beyond++
        assert.equal(e, null, text)
        continue
      }
      assert.ok(e !== null && Object.is(e.amount, value), text)
      if (Math.abs(value) <= 180) {
        const neg = scanChecked(typical({ location: `{"lat":0,"lng":-${text}}` }), TYPICAL_MS)
        assert.ok(neg !== null && Object.is(neg.lng, -value), `-${text}`)
      }
      read++
    }
    assert.ok(read > 10_000 && beyond > 1_000, `${read} read, ${beyond} beyond`)
  })
})

/** Raw values to substitute, by field. */
const NUMBER_TEXTS = [
  '0',
  '-0',
  '-0.0',
  '1',
  '-1',
  '0.5',
  '.5',
  '5.',
  '05',
  '00',
  '+5',
  '1e2',
  '1E2',
  '1e400',
  '-1e400',
  '1e-400',
  '9007199254740992',
  '9007199254740993',
  '123456789012345678901234567890',
  '0.1234567890123456789012',
  '0.12345678901234567890123',
  '2.5',
  '6',
  '5',
  '90',
  '90.000001',
  '-90',
  '180',
  '180.0000000001',
  '-180',
  'NaN',
  'Infinity',
  '"5"',
  'null',
  'true',
  'false',
  '[]',
  '{}',
  '0x10',
  '1_000'
]
const STRING_TEXTS = [
  '""',
  '"x"',
  '"retail"',
  '"food_service"',
  '"government"',
  '"Retail"',
  '"retail "',
  '"online"',
  '"pos"',
  '"mobile"',
  '"nfc"',
  '"cash"',
  '"approved"',
  '"declined"',
  '"flat"',
  '"progressive"',
  '"tiered"',
  '"individual"',
  '"CIP"',
  '"business"',
  '"cancelled"',
  '"insufficient_funds"',
  '"system_error"',
  '"fraud_prevented"',
  '"fraud_prevente"',
  '"iOS"',
  '"Android"',
  JSON.stringify('i'.repeat(255)),
  JSON.stringify('i'.repeat(256)),
  JSON.stringify('i'.repeat(257)),
  '"caf\u00e9"',
  '"tab\there"',
  '"quote\\"d"',
  '"back\\\\slash"',
  '"\\u0041"',
  '"del\u007f"',
  '"\u{1F600}"',
  'null',
  '7',
  'true',
  '{}'
]
const TIMESTAMP_TEXTS = [
  '2024-02-29T12:00:00.000Z',
  '2024-02-29T12:00:00Z',
  '2023-02-29T12:00:00.000Z',
  '2100-02-29T00:00:00.000Z',
  '2000-02-29T00:00:00.000Z',
  '2026-02-30T00:00:00.000Z',
  '2026-04-31T00:00:00.000Z',
  '2026-04-30T23:59:59.999Z',
  '2026-12-31T23:59:59.999Z',
  '2026-13-01T00:00:00.000Z',
  '2026-00-10T00:00:00.000Z',
  '2026-01-00T00:00:00.000Z',
  '2026-11-22T24:00:00.000Z',
  '2026-11-22T23:60:00.000Z',
  '2026-11-22T23:59:60.000Z',
  '2026-11-22T11:48:52.491+01:00',
  '2026-11-22T11:48:52.491-00:00',
  '2026-11-22T11:48:52.49Z',
  '2026-11-22T11:48:52.4912Z',
  '2026-11-22T11:48:52.491',
  '2026-11-22 11:48:52.491Z',
  '2026-11-22t11:48:52.491z',
  '2026-11-22T11:48Z',
  '2026-11-22',
  '+02026-11-22T11:48:52.491Z',
  '0099-11-22T11:48:52.491Z',
  '0100-11-22T11:48:52.491Z',
  '9999-12-31T23:59:59.999Z',
  '1795348132491',
  '1795348132',
  '1795348132.5',
  '2026-11-22T11:48:52.-91Z',
  '2026-1a-22T11:48:52.491Z'
]
const INTERESTING_BYTES = [
  0x20, 0x09, 0x0a, 0x0d, 0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x30, 0x39, 0x2d, 0x2e, 0x65, 0x00, 0x7f,
  0xc3, 0xa9, 0xff
]
const UNKNOWN_KEYS = [
  'note',
  'Amount',
  'amount ',
  '__proto__',
  'lat',
  'os',
  'constructor',
  '',
  'transaction_Id'
]
const NUMERIC_FIELDS = ['amount', 'vat_amount', 'commission_amount', 'total_amount', 'risk_level']
const STRING_FIELDS = [
  'transaction_id',
  'customer_id',
  'merchant_id',
  'card_id',
  'merchant_category',
  'payment_method',
  'status',
  'commission_type',
  'customer_type',
  'failure_reason'
]
const DEVICE_TEXTS = [
  'null',
  '{}',
  '[]',
  '"phone"',
  '7',
  '{"os":"iOS"}',
  '{"os":"Android","app_version":"2.4.1","device_model":"Pixel 8"}',
  '{"os":"Windows"}',
  '{"os":"iOS ","app_version":"1"}',
  '{"os":null}',
  '{"os":1}',
  '{"os":true}',
  '{"os":"iOS","os":"Android"}',
  '{"OS":"iOS"}',
  '{"app_version":"2.4.1","device_model":"iPhone 13"}',
  '{"os":"Android","build":1e3}',
  '{"os":"Android","build":-12.5}',
  '{"os":"Android","extra":{"a":1}}',
  '{"os":"Android","list":[1]}',
  '{"os":"Android",}',
  '{"os" "Android"}',
  '{ "os" : "iOS" , "x" : 1 }'
]
const LOCATION_TEXTS = [
  '{"lat":35.7,"lng":51.4}',
  '{"lng":51.4,"lat":35.7}',
  '{"lat":35.7}',
  '{"lat":35.7,"lng":51.4,"lat":1}',
  '{"lat":35.7,"lng":51.4,"alt":1}',
  '{"lat":"35.7","lng":51.4}',
  '{"lat":90,"lng":-180}',
  '{"lat":-90.0000001,"lng":0}',
  '{"lat":0,"lng":180.0000001}',
  '{"lat":1e1,"lng":0}',
  '{"lat":-0,"lng":-0}',
  '{"lat":null,"lng":0}',
  '{"lat" : 1 , "lng" : 2 }',
  '{}',
  '[35.7,51.4]',
  'null',
  '"35.7,51.4"'
]

/** One random variant of a valid line, and the ingestion time to check it at. */
function mutate(line: string, timeMs: number, r: Random): { input: Uint8Array | string; ingestion: number } {
  const ingestion = timeMs + r.int(-1_000, 1_000)
  const entries = entriesOf(line)
  const set = (key: string, raw: string | undefined): string => withField(line, key, raw)
  switch (r.int(0, 17)) {
    case 0: {
      const bytes = Buffer.from(line)
      bytes[r.int(0, bytes.length - 1)] = r.int(0, 255)
      return { input: bytes, ingestion }
    }
    case 1: {
      const bytes = Buffer.from(line)
      bytes[r.int(0, bytes.length - 1)] = r.pick(INTERESTING_BYTES)
      return { input: bytes, ingestion }
    }
    case 2: {
      const i = r.int(0, line.length - 1)
      return { input: line.slice(0, i) + line.slice(i + 1), ingestion }
    }
    case 3: {
      const bytes = Buffer.from(line)
      const i = r.int(0, bytes.length)
      const out = Buffer.concat([
        bytes.subarray(0, i),
        Buffer.from([r.pick(INTERESTING_BYTES)]),
        bytes.subarray(i)
      ])
      return { input: out, ingestion }
    }
    case 4:
      return { input: line.slice(0, r.int(0, line.length - 1)), ingestion }
    case 5: {
      const [key, raw] = r.pick(entries)
      const dup: [string, string] = [key, r.chance(0.5) ? raw : (r.pick(entries)[1] as string)]
      entries.splice(r.int(0, entries.length), 0, dup)
      return { input: join(entries), ingestion }
    }
    case 6: {
      for (let i = entries.length - 1; i > 0; i--) {
        const j = r.int(0, i)
        ;[entries[i], entries[j]] = [entries[j] as [string, string], entries[i] as [string, string]]
      }
      return { input: join(entries), ingestion }
    }
    case 7: {
      // Whitespace between tokens, nested objects included (spaces and tabs; in a few variants line breaks).
      const breaks = r.chance(0.1)
      const ws = (): string =>
        breaks && r.chance(0.05) ? r.pick(['\n', '\r', '\r\n']) : r.pick(['', '', ' ', '\t', '  ', ' \t'])
      const spaced = (raw: string): string =>
        raw.startsWith('{') ? raw.replace(/[{}:,]/g, c => (c === '}' ? `${ws()}}` : `${c}${ws()}`)) : raw
      const inner = entries.map(([k, v]) => `${ws()}${JSON.stringify(k)}${ws()}:${ws()}${spaced(v)}${ws()}`)
      return { input: `${ws()}{${inner.join(',')}}${ws()}`, ingestion }
    }
    case 8:
      return { input: set(r.pick(UNKNOWN_KEYS), r.pick(['1', '"x"', 'null', '{}'])), ingestion }
    case 9:
      return { input: set(r.pick(entries)[0], undefined), ingestion }
    case 10:
      return { input: set(r.pick(NUMERIC_FIELDS), r.pick(NUMBER_TEXTS)), ingestion }
    case 11: {
      const text = r.pick(TIMESTAMP_TEXTS)
      const raw = /^\d+(\.\d+)?$/.test(text) && r.chance(0.5) ? text : JSON.stringify(text)
      const parsed = Date.parse(text)
      const at = Number.isNaN(parsed) ? ingestion : parsed + r.int(-70_000, 70_000)
      return { input: set('timestamp', raw), ingestion: at }
    }
    case 12:
      return { input: set(r.pick(STRING_FIELDS), r.pick(STRING_TEXTS)), ingestion }
    case 13: {
      const mobile = r.chance(0.7) ? set('payment_method', '"mobile"') : line
      return { input: withField(mobile, 'device_info', r.pick(DEVICE_TEXTS)), ingestion }
    }
    case 14:
      return { input: set('location', r.pick(LOCATION_TEXTS)), ingestion }
    case 15: {
      const e = JSON.parse(line) as Record<string, number>
      const total = (e.amount as number) + (e.vat_amount as number) + (e.commission_amount as number)
      const off = r.pick([0, 0.01, -0.01, 0.005, 0.0100001, 0.02, 1, -1, 5_000, 1e-9])
      return { input: set('total_amount', String(total + off)), ingestion }
    }
    case 16: {
      const around = r.pick(['', ' ', '\t', '\n', '\r\n', 'x', '{}', ',', '\u00a0', '\ufeff'])
      return { input: r.chance(0.5) ? around + line : line + around, ingestion }
    }
    default: {
      // Several changes at once.
      for (let i = r.int(2, 4); i > 0; i--) {
        const key = r.pick([...NUMERIC_FIELDS, ...STRING_FIELDS])
        setEntry(entries, key, r.pick(NUMERIC_FIELDS.includes(key) ? NUMBER_TEXTS : STRING_TEXTS))
      }
      return { input: join(entries), ingestion }
    }
  }
}

describe('scanEvent under mutation', () => {
  it('answers null or exactly the slow path for thousands of variants of valid events', () => {
    const bases = generated({ seed: 'event-scan-fuzz', count: 3_000 })
      .filter(g => g.label === 'legit' || g.label === 'velocity')
      .slice(0, 400)
    const withDevice = bases.filter(g => g.raw.includes('"os":')).length
    assert.ok(withDevice > 50, `${withDevice} bases with device_info.os`)
    const r = new Random('event-scan-mutations')
    let variants = 0
    let accepted = 0
    for (const base of bases) {
      for (let i = 0; i < 60; i++) {
        const { input, ingestion } = mutate(base.raw, base.eventTimeMs, r)
        const options = r.chance(0.8) ? DEFAULT_VALIDATION : r.pick(OPTION_SETS)
        if (scanChecked(input, ingestion, options) !== null) accepted++
        variants++
      }
    }
    assert.ok(variants >= 20_000)
    // Many variants are still valid events: the fast path must not simply answer null.
    assert.ok(accepted > variants * 0.2, `${accepted} of ${variants} variants accepted`)
  })
})
