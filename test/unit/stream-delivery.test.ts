import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ByteSlab } from '../../src/bytes/index.ts'
import type { OutRecord } from '../../src/ports/log.ts'
import { decodeEmittedTimes } from '../../src/stream/emitted-times.ts'
import { OutputsFirst, StateFirst } from '../../src/stream/delivery.ts'
import { decodeMeta, guards } from '../../src/stream/fence.ts'
import { PartitionState } from '../../src/stream/partition-state.ts'
import { decodeReplayLog } from '../../src/stream/replay-log.ts'

const out = (value: string): OutRecord => ({ topic: 'o', key: null, value: Buffer.from(value) })

test('state-first remembers every handled record with outputs in the replay log it writes', () => {
  const d = new StateFirst('x:')
  const p = new PartitionState('in', 0, 0)
  const outputs = [out('a'), out('b'), out('c')]
  d.handled(p, 4, true, 1, outputs, 0)
  d.handled(p, 5, false, Number.NaN, outputs, 3) // no outputs: not in the log
  assert.deepEqual(p.next!.offsets, [4])
  const puts: [string, unknown][] = []
  d.statePuts(p, puts as never, new ByteSlab(256))
  assert.equal(puts[0]![0], 'x:{in:0}:b')
  assert.deepEqual(decodeReplayLog(puts[0]![1] as Buffer).starts, [0, 3])
  d.stateWritten(p)
  assert.equal(p.log, p.next)
})

test('outputs-first writes times before the outputs, fenced by a progress rewrite with a write id', () => {
  const d = new OutputsFirst('x:')
  const p = new PartitionState('in', 0, 0)
  p.stored = '{"v":1,"o":3,"t":null}'
  p.storedOffset = 3
  d.handled(p, 4, true, 1000, [], 0)
  d.handled(p, 2, false, Number.NaN, [out('a')], 0) // a re-emit keeps no time
  p.dirty = true
  assert.deepEqual(guards('x:', [p]), [['x:{in:0}:p', '{"v":1,"o":3,"t":null}']])
  const puts = d.earlyPuts([p], new ByteSlab(256))
  assert.deepEqual(
    puts.map(([k]) => k),
    ['x:{in:0}:p', 'x:{in:0}:r']
  )
  assert.equal(decodeMeta(puts[0]![1] as string).processedOffset, 3, 'the stored progress, not the batch’s')
  assert.match(puts[0]![1] as string, /"w":"[0-9a-f]{8}\.1"/)
  assert.equal(decodeEmittedTimes(puts[1]![1] as Buffer).timeOf(4), 1000)
  d.earlyWritten([p])
  assert.equal(p.stored, puts[0]![1])
  assert.equal(p.times.timeOf(4), 1000)
})
