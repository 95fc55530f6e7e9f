import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { DaroogheError } from '../../src/errors.ts'
import type { Doc, DocumentStore } from '../../src/ports/document-store.ts'

/** A fresh, empty store for one test; the suite closes it, `cleanup` drops what it holds. */
export interface StoreUnderTest {
  readonly store: DocumentStore
  cleanup(): Promise<void>
}

export type DocumentStoreFactory = (t: TestContext) => Promise<StoreUnderTest>

async function open(t: TestContext, factory: DocumentStoreFactory): Promise<DocumentStore> {
  const { store, cleanup } = await factory(t)
  t.after(async () => {
    await cleanup()
    await store.close()
  })
  return store
}

async function all(it: AsyncIterable<Doc[]>): Promise<Doc[][]> {
  const batches: Doc[][] = []
  for await (const b of it) batches.push(b)
  return batches
}

const day = (d: number, h = 0): Date => new Date(Date.UTC(2026, 0, d, h))

/**
 * The DocumentStore contract (src/ports/document-store.ts), run against every adapter: the
 * embedded store in the unit tests, MongoDB in the integration tests.
 */
export function documentStoreConformance(name: string, factory: DocumentStoreFactory): void {
  describe(`DocumentStore conformance: ${name}`, () => {
    test('upserts are keyed by _id: rewriting a document replaces it whole, counts do not move', async t => {
      const store = await open(t, factory)
      await store.upsertMany('c', [
        { _id: 'a', n: 1, extra: 'x' },
        { _id: 'b', n: 2 }
      ])
      await store.upsertMany('c', [
        { _id: 'a', n: 10 },
        { _id: 'a', n: 11 }
      ])
      await store.upsertMany('c', [])
      assert.equal(await store.count('c'), 2)
      const [batch] = await all(store.scan('c'))
      assert.deepEqual(batch, [
        { _id: 'a', n: 11 },
        { _id: 'b', n: 2 }
      ])
    })

    test('values round-trip: Dates stay Dates, nested objects, arrays, null, booleans, large integers', async t => {
      const store = await open(t, factory)
      const doc: Doc = {
        _id: 'tx-1',
        when: new Date('2026-01-02T03:04:05.678Z'),
        amount: 1_234_567_890_123,
        score: 12.5,
        location: { lat: 35.7, lng: 51.4 },
        rules: ['velocity', 'amount_anomaly'],
        trace: { velocity: { count: 6, window_s: 120 } },
        reason: null,
        ok: true,
        empty: {}
      }
      await store.upsertMany('c', [doc])
      const [batch] = await all(store.scan('c'))
      assert.deepEqual(batch, [doc])
      assert.ok(batch![0]!.when instanceof Date)
    })

    test('a written or read document is a copy: mutating it changes nothing stored', async t => {
      const store = await open(t, factory)
      const doc = { _id: 'a', list: [1, 2], inner: { v: 1 } }
      await store.upsertMany('c', [doc])
      doc.list.push(3)
      doc.inner.v = 2
      const [first] = await all(store.scan('c'))
      ;(first![0]!.list as number[]).push(4)
      const [second] = await all(store.scan('c'))
      assert.deepEqual(second, [{ _id: 'a', list: [1, 2], inner: { v: 1 } }])
    })

    test('thousands of documents in one call (several chunks) are all stored; scan batches them in _id order', async t => {
      const store = await open(t, factory)
      const docs: Doc[] = []
      for (let i = 0; i < 2_345; i++) docs.push({ _id: `d${String(i).padStart(5, '0')}`, i })
      await store.upsertMany('big', docs.slice().reverse())
      assert.equal(await store.count('big'), 2_345)
      const batches = await all(store.scan('big', { batchSize: 1000 }))
      assert.deepEqual(
        batches.map(b => b.length),
        [1000, 1000, 345]
      )
      assert.deepEqual(
        batches.flat().map(d => d._id),
        docs.map(d => d._id)
      )
    })

    test('a range scan yields [from, to) on a Date field, ordered by the field then _id', async t => {
      const store = await open(t, factory)
      await store.upsertMany('r', [
        { _id: 'e', at: day(3) },
        { _id: 'a', at: day(2) },
        { _id: 'b', at: day(1) },
        { _id: 'c', at: day(2) },
        { _id: 'd', at: day(4) },
        { _id: 'f' },
        { _id: 'g', at: '2026-01-02T00:00:00Z' },
        { _id: 'h', at: day(1, 23) }
      ])
      const ids = async (o: Parameters<DocumentStore['scan']>[1]): Promise<string[]> =>
        (await all(store.scan('r', o))).flat().map(d => d._id)
      assert.deepEqual(await ids({ field: 'at', from: day(1), to: day(3) }), ['b', 'h', 'a', 'c'])
      assert.deepEqual(await ids({ field: 'at', from: day(2) }), ['a', 'c', 'e', 'd'])
      assert.deepEqual(await ids({ field: 'at', to: day(2) }), ['b', 'h'])
      // A range field without bounds: every document whose field is a Date, in field order.
      assert.deepEqual(await ids({ field: 'at' }), ['b', 'h', 'a', 'c', 'e', 'd'])
      const batches = await all(store.scan('r', { field: 'at', batchSize: 4 }))
      assert.deepEqual(
        batches.map(b => b.length),
        [4, 2]
      )
    })

    test('an unknown collection counts 0 and scans empty', async t => {
      const store = await open(t, factory)
      assert.equal(await store.count('nothing-here'), 0)
      assert.deepEqual(await all(store.scan('nothing-here')), [])
    })

    test('ensureIndexes is idempotent and leaves the documents alone', async t => {
      const store = await open(t, factory)
      await store.upsertMany('ix', [{ _id: 'a', customer_id: 'c1', at: day(1) }])
      const specs = [
        { keys: { at: 1 } },
        { keys: { customer_id: 1, at: -1 } },
        { keys: { at: 1, _id: 1 } }
      ] as const
      await store.ensureIndexes('ix', specs)
      await store.ensureIndexes('ix', specs)
      await store.ensureIndexes('ix', [])
      assert.equal(await store.count('ix'), 1)
    })

    test('ping answers while open; a closed store refuses work with CLOSED', async t => {
      const { store, cleanup } = await factory(t)
      assert.equal(await store.ping(), true)
      await cleanup()
      await store.close()
      await store.close()
      assert.equal(await store.ping(), false)
      await assert.rejects(
        store.upsertMany('c', [{ _id: 'a' }]),
        (e: unknown) => e instanceof DaroogheError && e.kind === 'CLOSED'
      )
      await assert.rejects(
        store.count('c'),
        (e: unknown) => e instanceof DaroogheError && e.kind === 'CLOSED'
      )
    })
  })
}
