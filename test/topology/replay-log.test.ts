import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { OutRecord } from '../../src/ports/log.ts'
import {
  decodeReplayLog,
  encodeReplayLog,
  expand,
  findOffset,
  newLog,
  type DerivedOutRecord,
  type ReplayLog
} from '../../src/stream/replay-log.ts'
import { ByteSlab } from '../../src/bytes/index.ts'
import { wire } from './driver.ts'

function logOf(entries: [number, OutRecord[]][]): ReplayLog {
  const log = newLog()
  for (const [offset, recs] of entries) {
    log.offsets.push(offset)
    log.records.push(...recs)
    log.starts.push(log.records.length)
  }
  return log
}

test('every kind of key and value round-trips byte for byte', () => {
  const slab = new ByteSlab(64)
  const binary = Buffer.from([0, 0xff, 0x0a, 0x09, 0xc3, 0x28, 0x80])
  const log = logOf([
    [
      3,
      [
        {
          topic: 't.a',
          key: 'cust_1',
          value: slab.from('{"a":"ü\\n\t"}'),
          timestamp: 17,
          headers: { 'darooghe-label': 'velocity' }
        },
        { topic: 't.b', key: null, value: 'plain\n\ntext' }
      ]
    ],
    [4, [{ topic: 't.a', key: Buffer.from([1, 2, 0xfe]), value: binary, partition: 2 }]],
    [9, [{ topic: 'x\ty', key: 'k\t"', value: null, timestamp: 0 }]]
  ])
  const back = decodeReplayLog(encodeReplayLog(log))
  assert.deepEqual(back.offsets, [3, 4, 9])
  assert.deepEqual(back.starts, [0, 2, 3, 4])
  assert.deepEqual(back.records.map(wire), log.records.map(wire))
  assert.equal(findOffset(back, 4), 1)
  assert.equal(findOffset(back, 5), -1)
})

test('a derived value is stored without the input bytes and rebuilt from the redelivered input', () => {
  const input = Buffer.from('{"transaction_id":"t1","amount":5}')
  const end = input.lastIndexOf(0x7d)
  const value = Buffer.concat([input.subarray(0, end), Buffer.from(',"decision":"approved"}')])
  const out: DerivedOutRecord = { topic: 'approved', key: 'c', value, timestamp: 1, inputPrefix: end }
  const bytes = encodeReplayLog(logOf([[7, [out]]]))
  assert.ok(!bytes.includes('transaction_id'), 'the input part is not stored')
  assert.ok(bytes.includes(',"decision":"approved"}'))
  const stored = decodeReplayLog(bytes).records[0]!
  assert.equal(wire(expand(stored, input)!), wire(out))
  assert.equal(expand(stored, Buffer.from('{}')), null)
  // A rebuilt record is complete, so it round-trips again (a crash during a replay).
  const again = decodeReplayLog(encodeReplayLog(logOf([[7, [expand(stored, input)!]]]))).records[0]!
  assert.equal(wire(expand(again, input)!), wire(out))
})

test('an empty log encodes to nothing; foreign or damaged bytes are rejected', () => {
  assert.equal(encodeReplayLog(newLog()).length, 0)
  assert.deepEqual(decodeReplayLog(Buffer.alloc(0)), newLog())
  assert.deepEqual(decodeReplayLog(null), newLog())
  assert.throws(() => decodeReplayLog(Buffer.from('garbage')), /malformed replay log/)
  // The text format of version 1.
  assert.throws(() => decodeReplayLog(Buffer.from('1\t"t"\t"n"\t\t\tnull\ts5\n\nshort')))
  const full = encodeReplayLog(logOf([[1, [{ topic: 't', key: 'k', value: 'some value' }]]]))
  assert.throws(() => decodeReplayLog(full.subarray(0, full.length - 1)), /malformed replay log/)
  assert.throws(() => decodeReplayLog(Buffer.concat([full, Buffer.from([7])])), /trailing bytes/)
})
