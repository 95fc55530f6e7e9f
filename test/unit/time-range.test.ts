import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isoOrEmpty, MAX_DATE_MS, parseTimestamp } from '../../src/domain/time.ts'

test('an epoch time beyond what a Date holds is not a time', () => {
  assert.equal(parseTimestamp(MAX_DATE_MS), MAX_DATE_MS)
  assert.ok(Number.isNaN(parseTimestamp(MAX_DATE_MS + 1)))
  assert.ok(Number.isNaN(parseTimestamp(String(MAX_DATE_MS + 1))))
  assert.ok(Number.isNaN(parseTimestamp(1e300)))
})

test('isoOrEmpty writes a record timestamp it can, and nothing for one it cannot', () => {
  assert.equal(isoOrEmpty(0), '1970-01-01T00:00:00.000Z')
  assert.equal(isoOrEmpty(-MAX_DATE_MS), '-271821-04-20T00:00:00.000Z')
  assert.equal(isoOrEmpty(MAX_DATE_MS + 1), '')
  assert.equal(isoOrEmpty(Number.NaN), '')
  assert.equal(isoOrEmpty(Number.POSITIVE_INFINITY), '')
})
