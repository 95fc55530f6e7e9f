import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryDocumentStore, MemoryLog } from '../../src/adapters/memory/index.ts'
import { COLLECTIONS, DEFAULT_STORE_TOPICS, runStore } from '../../src/apps/store/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import { silentLogger } from '../../src/logger.ts'
import type { Doc } from '../../src/ports/document-store.ts'
import { uniqueName, waitFor } from '../helpers/services.ts'

const T = DEFAULT_STORE_TOPICS
const TOPICS = [T.approved, T.fraud, T.alerts, T.errors, T.late, T.analytics]

/** Refuses, for good, every document that still carries a record's headers (a full reject). */
class NoHeadersStore extends MemoryDocumentStore {
  refused = 0
  override async upsertMany(collection: string, docs: readonly Doc[]): Promise<void> {
    if (docs.some(d => 'headers' in d)) {
      this.refused++
      throw new DaroogheError('MONGO', 'refused (test)', { retriable: false })
    }
    return super.upsertMany(collection, docs)
  }
}

test('a reject the store refuses is kept without its bytes, and the stream goes on', async () => {
  const log = new MemoryLog()
  for (const t of TOPICS) log.createTopic(t, 1)
  await log.producer().send([
    { topic: T.alerts, value: 'not json', headers: { $where: '1' } },
    { topic: T.alerts, value: JSON.stringify({ alert_id: 'a1', created_at: '2026-01-01T00:00:00Z' }) }
  ])
  const store = new NoHeadersStore()
  const group = uniqueName('g-bare')
  const consumer = log.consumer({ groupId: group, topics: TOPICS })
  const abort = new AbortController()
  const running = runStore({ consumer, store, log: silentLogger, signal: abort.signal })
  await waitFor(() => log.committedOffsets(group, T.alerts)[0] === 2, { what: 'both records committed' })
  abort.abort()
  const totals = await running
  assert.ok(store.refused > 0)
  const rejects: Doc[] = []
  for await (const batch of store.scan(COLLECTIONS.rejects)) rejects.push(...batch)
  assert.deepEqual(rejects, [
    {
      _id: `${T.alerts}:0:0`,
      topic: T.alerts,
      partition: 0,
      offset: 0,
      kind: 'not_json',
      reason: rejects[0]!.reason,
      value_bytes: 8,
      bytes_dropped: true
    }
  ])
  assert.match(rejects[0]!.reason as string, /^not JSON: /)
  assert.equal(await store.count(COLLECTIONS.alerts), 1)
  assert.equal(totals.rejects, 1)
})
