import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryStateStore } from '../../src/adapters/memory/state-store.ts'
import type { StoreSpec } from '../../src/stream/keyed-state.ts'
import { StateCache } from '../../src/stream/state-cache.ts'

/** A partition-scoped store of counters (text), and a global one. */
const codec = {
  decode: (raw: Buffer | null) => ({ n: raw === null ? 0 : Number(raw.toString()) }),
  encode: (v: { n: number }) => Buffer.from(String(v.n))
}
const COUNTS: StoreSpec<{ n: number }> = { name: 'n', slot: 0, scope: 'partition', codec }
const TOTALS: StoreSpec<{ n: number }> = { name: 't', slot: 1, scope: 'global', codec }

async function loaded(
  store = new MemoryStateStore()
): Promise<{ cache: StateCache; store: MemoryStateStore }> {
  const cache = new StateCache([COUNTS, TOTALS] as StoreSpec<unknown>[], 'x:')
  const part = cache.partition('in', 0)
  assert.equal(cache.need(part, COUNTS, 'a', 1), true, 'a cold key must be loaded')
  await cache.load(store, [part], 1)
  return { cache, store }
}

test('get after need finds the hot entry, per store and per partition', async () => {
  const { cache } = await loaded()
  const p0 = cache.partition('in', 0)
  const a = cache.get(p0, COUNTS, 'a', 1)
  a.value.n = 5
  assert.equal(cache.need(p0, COUNTS, 'a', 2), false, 'hot now')
  assert.equal(cache.get(p0, COUNTS, 'a', 2), a)
  assert.equal(a.seq, 2, 'touching stamps the batch')
  // Another partition's map has no 'a': its get must not be answered from the first's.
  const p1 = cache.partition('in', 1)
  assert.throws(() => cache.get(p1, COUNTS, 'a', 2), /read without being requested/)
  // Nor another store of the same key.
  assert.throws(() => cache.get(p0, TOTALS, 'a', 2), /read without being requested/)
  // A key with the same text but another string object is the same key.
  assert.equal(cache.get(p0, COUNTS, ['a'].join(''), 2), a)
})

test('an entry evicted or dropped after its need is not served from memory', async () => {
  const { cache, store } = await loaded()
  const p0 = cache.partition('in', 0)
  const a = cache.get(p0, COUNTS, 'a', 1)
  assert.equal(cache.need(p0, COUNTS, 'a', 1), false)
  // Batch 9 is the current one; 'a' (stamped 1) is the least recently used: a cap of 0 evicts it.
  cache.evict(9, 0)
  assert.equal(cache.size, 0)
  assert.throws(() => cache.get(p0, COUNTS, 'a', 9), /read without being requested/)
  // Loaded again: a new entry, and get answers with it, not the evicted one.
  assert.equal(cache.need(p0, COUNTS, 'a', 10), true)
  await cache.load(store, [], 10)
  const again = cache.get(p0, COUNTS, 'a', 10)
  assert.notEqual(again, a)
  // The partition is dropped (revoked): its successor state starts empty.
  assert.equal(cache.need(p0, COUNTS, 'a', 11), false)
  cache.drop(p0)
  const fresh = cache.partition('in', 0)
  assert.throws(() => cache.get(fresh, COUNTS, 'a', 11), /read without being requested/)
})
