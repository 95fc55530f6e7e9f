import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import type { DecisionEntry, DecisionStore } from '../../src/ports/decision-store.ts'
import { waitFor } from './services.ts'

/** A fresh store for one test; the suite closes it, `cleanup` drops what it holds. */
export type DecisionStoreFactory = (
  t: TestContext
) => Promise<{ store: DecisionStore; cleanup(): Promise<void> }>

async function open(t: TestContext, factory: DecisionStoreFactory): Promise<DecisionStore> {
  const { store, cleanup } = await factory(t)
  t.after(async () => {
    await cleanup()
    await store.close()
  })
  return store
}

const pending = (c: string): DecisionEntry => ({
  state: 'pending',
  fingerprint: 'f1',
  correlationId: c,
  receivedAtMs: 1_700_000_000_000
})
const done = (c: string): DecisionEntry => ({
  ...pending(c),
  state: 'done',
  reply: '{"decision":"approved"}'
})

/**
 * The DecisionStore contract (src/ports/decision-store.ts), run against every adapter: memory in
 * the unit tests, Redis in the integration tests.
 */
export function decisionStoreConformance(name: string, factory: DecisionStoreFactory): void {
  describe(`DecisionStore conformance: ${name}`, () => {
    test('claim stores only the first entry and returns what is there to the others', async t => {
      const store = await open(t, factory)
      assert.equal(await store.claim('t1', pending('c1'), 60_000), null)
      assert.deepEqual(await store.claim('t1', pending('c2'), 60_000), pending('c1'))
      const claims = await Promise.all(['a', 'b', 'c', 'd'].map(c => store.claim('t2', pending(c), 60_000)))
      assert.equal(claims.filter(c => c === null).length, 1, 'one claim wins')
      assert.deepEqual(await store.get('t1'), pending('c1'))
      assert.equal(await store.get('nope'), null)
    })

    test('put replaces whatever is there; a claim then returns the decision', async t => {
      const store = await open(t, factory)
      await store.claim('t1', pending('c1'), 60_000)
      await store.put('t1', done('c1'), 60_000)
      assert.deepEqual(await store.get('t1'), done('c1'))
      assert.deepEqual(await store.claim('t1', pending('c9'), 60_000), done('c1'))
    })

    test('release removes only the pending entry it names', async t => {
      const store = await open(t, factory)
      await store.claim('t1', pending('c1'), 60_000)
      await store.release('t1', pending('c2'))
      assert.deepEqual(await store.get('t1'), pending('c1'))
      await store.release('t1', pending('c1'))
      assert.equal(await store.get('t1'), null)
      await store.put('t2', done('c1'), 60_000)
      await store.release('t2', pending('c1'))
      assert.deepEqual(await store.get('t2'), done('c1'))
    })

    test('entries expire after their TTL', async t => {
      const store = await open(t, factory)
      await store.claim('t1', pending('c1'), 50)
      await waitFor(async () => (await store.get('t1')) === null, { what: 'expiry', timeoutMs: 5_000 })
      assert.equal(await store.claim('t1', pending('c2'), 60_000), null)
    })
  })
}
