import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MongoDocumentStore, databaseFromUrl } from '../../src/adapters/mongo/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import { documentStoreConformance } from '../helpers/document-store-conformance.ts'
import { MONGO_URL, uniqueName, waitFor } from '../helpers/services.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

/** A database of its own per test, dropped after it. */
async function openMongoStore(): Promise<{ store: MongoDocumentStore; cleanup: () => Promise<void> }> {
  const database = uniqueName('test-docs').replace(/-/g, '_')
  const store = await MongoDocumentStore.connect({ url: MONGO_URL, database })
  return { store, cleanup: () => store.database.dropDatabase().then(() => undefined) }
}

documentStoreConformance('mongo', () => openMongoStore())

test('the database comes from the URL path, else darooghe', () => {
  assert.equal(databaseFromUrl('mongodb://127.0.0.1:27017/payments?retryWrites=true'), 'payments')
  assert.equal(databaseFromUrl('mongodb://u:p@h1:1,h2:2/x'), 'x')
  assert.equal(databaseFromUrl('mongodb://127.0.0.1:27017'), undefined)
  assert.equal(databaseFromUrl('mongodb://127.0.0.1:27017/'), undefined)
})

test('the indexes asked for exist on the server', async t => {
  const { store, cleanup } = await openMongoStore()
  t.after(async () => {
    await cleanup()
    await store.close()
  })
  await store.ensureIndexes('tx', [
    { keys: { customer_id: 1, event_time: 1 } },
    { keys: { day: 1 }, name: 'by_day' }
  ])
  const keys = (await store.database.collection('tx').indexes()).map(i => JSON.stringify(i.key))
  assert.ok(keys.includes('{"customer_id":1,"event_time":1}'), keys.join(' '))
  assert.ok(keys.includes('{"day":1}'), keys.join(' '))
})

test('an unreachable server is a retriable MONGO error naming the fix', async () => {
  await assert.rejects(
    MongoDocumentStore.connect({ url: 'mongodb://127.0.0.1:1/x', serverSelectionTimeoutMs: 300 }),
    (e: unknown) =>
      e instanceof DaroogheError && e.kind === 'MONGO' && e.retriable && /--mongo/.test(e.message)
  )
})

test('a document the server refuses is a MONGO error that is not retriable', async t => {
  const { store, cleanup } = await openMongoStore()
  t.after(async () => {
    await cleanup()
    await store.close()
  })
  await assert.rejects(
    store.upsertMany('c', [{ _id: 'x', $set: 1 }]),
    (e: unknown) => e instanceof DaroogheError && e.kind === 'MONGO' && !e.retriable
  )
})

test('a write while the server is cut off is a retriable MONGO error; it succeeds once the server is back', async t => {
  const proxy = new TcpProxy({
    host: new URL(MONGO_URL).hostname,
    port: Number(new URL(MONGO_URL).port || 27017)
  })
  await proxy.up()
  const database = uniqueName('test-docs-cut').replace(/-/g, '_')
  const store = await MongoDocumentStore.connect({
    url: `mongodb://127.0.0.1:${proxy.port}/${database}`,
    serverSelectionTimeoutMs: 300
  })
  t.after(async () => {
    await proxy.up().catch(() => {})
    await store.database.dropDatabase()
    await store.close()
    await proxy.down()
  })
  await store.upsertMany('c', [{ _id: 'a' }])
  await proxy.down()
  for (let i = 0; i < 2; i++) {
    // First a connection closed under the driver, then no server to select.
    await assert.rejects(
      store.upsertMany('c', [{ _id: `b${i}` }]),
      (e: unknown) => e instanceof DaroogheError && e.kind === 'MONGO' && e.retriable
    )
  }
  assert.equal(await store.ping(), false)
  await proxy.up()
  await waitFor(() => store.ping(), { what: 'the driver to reconnect' })
  await store.upsertMany('c', [{ _id: 'b' }])
  assert.equal(await store.count('c'), 2)
})
