import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readFrames, writeFrame } from '../../src/stream/journal.ts'
import { ByteSlab, type ByteWriter } from '../../src/bytes/index.ts'

const frame = (maxEntryBytes: number, write: (w: ByteWriter) => boolean) => ({
  maxEntryBytes,
  write: (_: unknown, w: ByteWriter) => write(w)
})

test('entries written as frames read back in order; an entry that changed nothing leaves no bytes', () => {
  const slab = new ByteSlab(64)
  const a = writeFrame(
    slab,
    frame(10, w => (w.u8(7), w.str16('c-1'), true)),
    null
  )
  const none = writeFrame(
    slab,
    frame(10, w => (w.u8(9), false)),
    null
  )
  const b = writeFrame(
    slab,
    frame(300, w => (w.str16('x'.repeat(250)), true)),
    null
  )
  assert.equal(none, null)
  const journal = Buffer.concat([a!, b!])
  assert.equal(journal.length, 2 + 6 + 2 + 252)
  const frames = readFrames(journal)
  assert.deepEqual(
    frames.map(f => f.length),
    [6, 252]
  )
  assert.deepEqual([...frames[0]!], [7, 3, 0, 0x63, 0x2d, 0x31])
  assert.deepEqual(readFrames(Buffer.alloc(0)), [])
})

test('a journal cut inside a header or an entry is refused, not half-read', () => {
  const slab = new ByteSlab(64)
  const journal = Buffer.concat([
    writeFrame(
      slab,
      frame(8, w => (w.f64(1.5), true)),
      null
    )!,
    writeFrame(
      slab,
      frame(8, w => (w.f64(2.5), true)),
      null
    )!
  ])
  assert.throws(() => readFrames(journal.subarray(0, journal.length - 1)), /cut inside an entry at byte 10/)
  assert.throws(() => readFrames(journal.subarray(0, 11)), /cut inside an entry header at byte 10/)
})
