import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  countInLookback,
  hoppingWindows,
  inLookback,
  isClosed,
  lowerBound,
  tumblingStart,
  upperBound
} from '../../src/stream/windows.ts'

test('tumbling windows are aligned to the epoch and hold their start, not their end', () => {
  assert.equal(tumblingStart(300_000, 300_000), 300_000)
  assert.equal(tumblingStart(599_999, 300_000), 300_000)
  assert.equal(tumblingStart(600_000, 300_000), 600_000)
  assert.equal(tumblingStart(-1, 1000), -1000)
})

test('hopping windows: 1-minute windows every 20 s, three per event, oldest first', () => {
  assert.deepEqual(hoppingWindows(65_000, 60_000, 20_000), [
    { start: 20_000, end: 80_000 },
    { start: 40_000, end: 100_000 },
    { start: 60_000, end: 120_000 }
  ])
  // On a boundary the event opens a window and is past the end of another.
  assert.deepEqual(
    hoppingWindows(60_000, 60_000, 20_000).map(w => w.start),
    [20_000, 40_000, 60_000]
  )
})

test('look-back windows include both ends', () => {
  assert.equal(inLookback(0, 120_000, 120_000), true)
  assert.equal(inLookback(-1, 120_000, 120_000), false)
  assert.equal(inLookback(120_000, 120_000, 120_000), true)
  assert.equal(inLookback(120_001, 120_000, 120_000), false)
  const times = [0, 10, 10, 20, 30]
  assert.equal(countInLookback(times, 20, 10), 3)
  assert.equal(countInLookback(times, 30, 30), 5)
  assert.equal(countInLookback(times, 9, 5), 0)
  assert.equal(lowerBound(times, 10), 1)
  assert.equal(upperBound(times, 10), 3)
})

test('a window closes once stream time passes its end plus the allowed lateness', () => {
  const w = { start: 0, end: 60_000 }
  assert.equal(isClosed(w, 89_999, 30_000), false)
  assert.equal(isClosed(w, 90_000, 30_000), true)
})
