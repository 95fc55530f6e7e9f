import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ByteSlab, ChunkPool } from '../../src/bytes/index.ts'

test('a recycled slab hands its chunks to the next slab of the pool, which reuses the same memory', () => {
  const pool = new ChunkPool()
  const first = ByteSlab.forBatch(100, 1_000, pool)
  const a = first.from('first batch')
  assert.equal(a.toString(), 'first batch')
  assert.equal(pool.freeBytes, 0)
  first.recycle()
  assert.equal(pool.freeBytes, 128 << 10, 'a 100 kB slab takes a 128 KiB chunk (its size class)')
  const second = ByteSlab.forBatch(100, 1_000, pool)
  const b = second.from('second')
  assert.equal(pool.freeBytes, 0)
  assert.equal(b.buffer, a.buffer, 'the same ArrayBuffer, reused')
  assert.equal(
    a.subarray(0, 6).toString(),
    'second',
    'the recycled bytes were overwritten: why recycle() waits for the owner'
  )
})

test('chunks are pooled by size class; oversized values and a full pool fall back to plain allocation', () => {
  const pool = new ChunkPool(1 << 20)
  const big = new ByteSlab(1 << 20, pool)
  const huge = big.from('x'.repeat(400_000)) // needs 1.2 MB: beyond the largest class
  assert.equal(huge.length, 400_000)
  big.recycle()
  assert.equal(pool.freeBytes, 0, 'an oversized chunk is not pooled')
  const slabs = [1, 2, 3].map(() => new ByteSlab(1 << 19, pool))
  for (const s of slabs) s.from('y')
  for (const s of slabs) s.recycle()
  assert.equal(pool.freeBytes, 1 << 20, 'two 512 KiB chunks fill the 1 MiB bound; the third is dropped')
  const small = new ByteSlab(16 << 10, pool).from('z')
  assert.equal(small.buffer.byteLength, 16 << 10, 'a 16 KiB request does not take a free 512 KiB chunk')
})

test('a slab without a pool never reuses memory, and recycle() only forgets its chunks', () => {
  const slab = new ByteSlab(1024)
  const a = slab.from('kept')
  slab.recycle()
  const b = slab.from('next')
  assert.equal(b.toString(), 'next')
  assert.equal(a.toString(), 'kept', 'the first bytes were not overwritten')
})

test('join writes parts one after the other into the slab', () => {
  const slab = new ByteSlab(64)
  const out = slab.join([Buffer.from('ab'), new Uint8Array([0x63]), Buffer.from('de')], 5)
  assert.equal(out.toString(), 'abcde')
})
