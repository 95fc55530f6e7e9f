import assert from 'node:assert/strict'
import { test } from 'node:test'
import { advance, isLate, NO_EVENT_TIME, watermarkOf } from '../../src/stream/watermark.ts'

test('the watermark trails stream time by the allowed lateness', () => {
  assert.equal(watermarkOf(100_000, 30_000), 70_000)
})

test('an event exactly on the watermark is on time; one millisecond earlier is late', () => {
  assert.equal(isLate(70_000, 100_000, 30_000), false)
  assert.equal(isLate(69_999, 100_000, 30_000), true)
})

test('out-of-order events within the lateness are on time and do not move stream time back', () => {
  let st = NO_EVENT_TIME
  for (const t of [100_000, 80_000, 95_000, 120_000, 91_000]) {
    assert.equal(isLate(t, st, 30_000), false, `${t}`)
    st = advance(st, t)
  }
  assert.equal(st, 120_000)
  assert.equal(isLate(89_999, st, 30_000), true)
})

test('before any event nothing is late', () => {
  assert.equal(isLate(0, NO_EVENT_TIME, 0), false)
})
