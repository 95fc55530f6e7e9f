import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chunkBounds } from '../../src/adapters/kafka/producer.ts'

const KiB = 1024
const msg = (
  topic: string,
  partition: number,
  bytes: number
): { topic: string; partition: number; value: Buffer } => ({
  topic,
  partition,
  value: Buffer.alloc(bytes)
})

test('a send spread over partitions goes out in one request while each partition batch stays under 768 KiB', () => {
  // 6 partitions × 600 KiB = 3.6 MiB in all, but no partition's batch reaches the limit.
  const messages = Array.from({ length: 600 }, (_, i) => msg('approved', i % 6, 6 * KiB))
  assert.deepEqual(chunkBounds(messages), [0, 600])
})

test("a partition's batch past 768 KiB starts a new chunk; order is kept", () => {
  const messages = Array.from({ length: 300 }, () => msg('approved', 0, 10 * KiB))
  const bounds = chunkBounds(messages)
  assert.equal(bounds[0], 0)
  assert.equal(bounds[bounds.length - 1], 300)
  for (let c = 0; c + 1 < bounds.length; c++) {
    const bytes = (bounds[c + 1]! - bounds[c]!) * (10 * KiB + 64)
    assert.ok(bytes <= 768 * KiB, `chunk ${c} holds ${bytes} bytes`)
  }
  assert.equal(bounds.length - 1, Math.ceil(300 / Math.floor((768 * KiB) / (10 * KiB + 64))))
})

test('a record larger than the limit still goes out, alone in its chunk', () => {
  const messages = [msg('t', 0, KiB), msg('t', 0, 900 * KiB), msg('t', 0, KiB)]
  assert.deepEqual(chunkBounds(messages), [0, 1, 2, 3])
})
