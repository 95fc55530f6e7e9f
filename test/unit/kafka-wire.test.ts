import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Reader } from '@platformatic/kafka'
import { parseProduceResponse } from '../../src/adapters/kafka/produce-request.ts'
import { WireCursor } from '../../src/adapters/kafka/protocol/wire.ts'

/** Bytes as Kafka writes them, for the parsers to read. */
class Bytes {
  readonly parts: number[] = []
  uvarint(v: number): this {
    while (v >= 0x80) {
      this.parts.push((v & 0x7f) | 0x80)
      v = Math.floor(v / 128)
    }
    this.parts.push(v)
    return this
  }
  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1)
  }
  int(v: number, size: 2 | 4 | 8): this {
    const b = Buffer.alloc(size)
    if (size === 2) b.writeInt16BE(v)
    else if (size === 4) b.writeInt32BE(v)
    else b.writeBigInt64BE(BigInt(v))
    this.parts.push(...b)
    return this
  }
  compact(s: string | null): this {
    if (s === null) return this.uvarint(0)
    const b = Buffer.from(s)
    this.uvarint(b.length + 1)
    this.parts.push(...b)
    return this
  }
  tags(): this {
    return this.uvarint(0)
  }
  get buffer(): Buffer {
    return Buffer.from(this.parts)
  }
}

test('varints and varlongs read back what Kafka writes: signs, 32-bit edges, timestamps up to 2^53', () => {
  const values = [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31)]
  const longs = [0, -1, 1_763_800_000_000, -1_763_800_000_000, 2 ** 53 - 1]
  const w = new Bytes()
  for (const v of values) w.varint(v)
  for (const v of longs) w.varint(v)
  const c = new WireCursor(w.buffer)
  assert.deepEqual(
    values.map(() => c.varint()),
    values
  )
  assert.deepEqual(
    longs.map(() => c.varint()),
    longs
  )
  assert.equal(c.at, w.buffer.length)
  assert.throws(() => new WireCursor(Buffer.from([0x80, 0x80])).varint(), /malformed/)
})

test('a produce response: offsets and errors per partition, every record error read past', () => {
  const w = new Bytes()
  w.uvarint(2) // one topic
  w.compact('payments.approved')
  w.uvarint(3) // two partitions
  // Partition 0: written at offset 42, with two record errors (an old broker's answer shape).
  w.int(0, 4).int(0, 2).int(42, 8).int(-1, 8).int(0, 8)
  w.uvarint(3).int(0, 4).compact('first bad record').tags().int(1, 4).compact('second bad record').tags()
  w.compact(null).tags()
  // Partition 5: NOT_LEADER_OR_FOLLOWER, with a message and a tagged field to skip.
  w.int(5, 4).int(6, 2).int(-1, 8).int(-1, 8).int(-1, 8)
  w.uvarint(1)
  w.compact('leader moved')
  w.uvarint(1).uvarint(0).uvarint(3).int(0, 2).parts.push(0x01)
  w.tags() // topic
  w.int(0, 4).tags() // throttle, response
  const results = parseProduceResponse(0, 0, 11, Reader.from(w.buffer))
  assert.deepEqual(results, [
    {
      topic: 'payments.approved',
      partition: 0,
      errorCode: 0,
      baseOffset: 42,
      errorMessage: 'first bad record'
    },
    { topic: 'payments.approved', partition: 5, errorCode: 6, baseOffset: -1, errorMessage: 'leader moved' }
  ])
})
