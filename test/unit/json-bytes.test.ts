import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatRounded, writeRounded } from '../../src/domain/rules/evaluators.ts'
import { ByteSlab, bytesOf } from '../../src/bytes/index.ts'

const written = (write: (w: ReturnType<ByteSlab['begin']>) => void, room = 64): string => {
  const slab = new ByteSlab(256)
  const w = slab.begin(room)
  write(w)
  return slab.end().toString('utf8')
}

test('numbers written as bytes read exactly as String() writes them; non-finite ones as null', () => {
  const values = [
    0,
    7,
    10,
    99,
    100,
    4_294_967_296,
    2 ** 53 - 1,
    2 ** 53,
    1e21,
    -1,
    -0,
    0.5,
    1.05,
    1e-7,
    123.456
  ]
  for (const v of values)
    assert.equal(
      written(w => w.num(v)),
      String(v),
      String(v)
    )
  for (const v of [Number.NaN, Number.POSITIVE_INFINITY])
    assert.equal(
      written(w => w.num(v)),
      'null'
    )
})

test('rounded trace values written as bytes are the text formatRounded makes', () => {
  const values: unknown[] = [
    0, 0.04, 0.05, 1.05, 1.5, 2.007, 12.07, 12.7, 99.995, 100, 1234.5678, 1e13, 1e15, -2.5
  ]
  for (let i = 0; i < 2_000; i++) values.push(i * 0.013 + (i % 7) * 0.0041)
  values.push(Number.NaN, 'x', null)
  for (const v of values) {
    for (const digits of [1, 2] as const) {
      assert.equal(
        written(w => writeRounded(w, v, digits)),
        formatRounded(v, digits),
        `${String(v)} / ${digits}`
      )
    }
  }
})

test('text is written as UTF-8, and writing past the reserved room throws instead of cutting', () => {
  assert.equal(
    written(w => w.text('ab"é€')),
    'ab"é€'
  )
  assert.throws(() => written(w => w.text('x'.repeat(10)), 9), RangeError)
  assert.throws(() => written(w => w.text('é'.repeat(5)), 9), RangeError)
  assert.throws(() => written(w => w.num(1_234_567_890), 9), RangeError)
})

test('pre-encoded bytes and a prefix of a buffer are written as they are, within the reserved room', () => {
  const event = Buffer.from('{"id":"t1"}  ')
  assert.equal(
    written(w => {
      w.raw(event, 0, 10) // the event without its closing brace: copied whole, cut at 10
      w.put(bytesOf(',"x":1}'))
    }),
    '{"id":"t1","x":1}'
  )
  // A prefix whose whole buffer does not fit, but the prefix does: still written.
  assert.equal(
    written(w => w.raw(event, 0, 10), 10),
    '{"id":"t1"'
  )
  assert.equal(
    written(w => w.raw(event, 2, 4)),
    'id'
  )
  assert.throws(() => written(w => w.raw(event, 0, 11), 10), RangeError)
  assert.throws(() => written(w => w.put(bytesOf('x'.repeat(10))), 9), RangeError)
})

test('IsoFormatter writes the text of toISOString, as a string and as bytes', async () => {
  const { IsoFormatter } = await import('../../src/domain/time.ts')
  const f = new IsoFormatter()
  const base = Date.parse('2026-11-22T23:59:59.999Z')
  const values = [
    0,
    1,
    999,
    1000,
    86_399_999,
    86_400_000,
    base,
    base + 1,
    Date.parse('2024-02-29T12:34:56.007Z')
  ]
  for (let i = 0; i < 500; i++) values.push(base - i * 7_654_321 - (i % 1000))
  values.push(-1, 253_402_300_800_000, 1.5) // outside the fast range: Date's own text
  for (const ms of values) {
    const expected = new Date(ms).toISOString()
    assert.equal(f.format(ms), expected, `format(${ms})`)
    assert.equal(
      written(w => f.writeInto(ms, w)),
      expected,
      `writeInto(${ms})`
    )
  }
})
