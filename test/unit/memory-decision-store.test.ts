import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryDecisionStore } from '../../src/adapters/memory/decision-store.ts'
import { decisionStoreConformance } from '../helpers/decision-store-conformance.ts'

decisionStoreConformance('memory', async () => ({
  store: new MemoryDecisionStore(),
  cleanup: async () => {}
}))

test('beyond its capacity the memory store drops the entries written first', async () => {
  const store = new MemoryDecisionStore({ capacity: 2 })
  const e = { state: 'pending', fingerprint: 'f', correlationId: 'c', receivedAtMs: 0 } as const
  for (const id of ['a', 'b', 'c']) await store.claim(id, e, 60_000)
  assert.equal(await store.get('a'), null)
  assert.ok(await store.get('b'))
  assert.ok(await store.get('c'))
})
