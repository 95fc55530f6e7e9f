import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MongoClient } from 'mongodb'
import { MongoDocumentStore } from '../../src/adapters/mongo/index.ts'
import { RESULT_COLLECTIONS, TRANSACTIONS } from '../../src/apps/analytics/index.ts'
import { runCli } from '../helpers/cli.ts'
import { FIXTURE } from '../helpers/analytics-fixture.ts'
import { MONGO_URL, uniqueName } from '../helpers/services.ts'

test('analyze --mongo reads transactions in a time range and stores one document per report', async t => {
  const database = uniqueName('analyze').replace(/-/g, '_')
  const client = new MongoClient(MONGO_URL)
  t.after(async () => {
    await client.db(database).dropDatabase()
    await client.close()
  })
  const store = await MongoDocumentStore.connect({ url: MONGO_URL, database })
  // The sink's document shape: the event, _id = transaction_id, event_time, day, decision fields.
  await store.upsertMany(
    TRANSACTIONS,
    FIXTURE.map(e => ({
      ...e,
      _id: e.transaction_id,
      event_time: new Date(String(e.timestamp)),
      day: String(e.timestamp).slice(0, 10),
      risk_score: 10,
      rules_fired: []
    }))
  )
  await store.close()

  const args = ['analyze', '--mongo', MONGO_URL, '--database', database, '--run-id', 'mongo-run-1']
  const r = await runCli([...args, '--from', '2026-01-06T00:00:00Z', '--to', '2026-01-08T00:00:00Z'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /analyzed 3 transactions from mongo/)

  const db = client.db(database)
  for (const name of Object.keys(RESULT_COLLECTIONS)) {
    const docs = await db.collection(name).find({}).toArray()
    assert.equal(docs.length, 1, name)
    assert.equal(docs[0]!._id as unknown as string, 'mongo-run-1')
    assert.deepEqual(docs[0]!.range, { from: '2026-01-06T00:00:00.000Z', to: '2026-01-08T00:00:00.000Z' })
    assert.equal(docs[0]!.source.kind, 'mongo')
    assert.ok(docs[0]!.created_at instanceof Date)
  }
  // a3, a4, a5: 50k + 150k + 300k; a3 declined; 1000 + 3000 + 6000 commission
  const summary = await db.collection('analytics_summary').findOne({})
  assert.equal(summary!.result.summary.total_value, 500_000)
  assert.deepEqual(summary!.result.summary.by_status, { approved: 2, declined: 1 })
  assert.equal(summary!.result.fraud.fraud, 0)
  const merchants = await db.collection('analytics_merchants').findOne({})
  assert.deepEqual(
    merchants!.result.top_by_commission.map((m: { merchant_id: string }) => m.merchant_id),
    ['merch_3', 'merch_2']
  )

  // A rerun with the same id replaces its documents; another id adds one.
  assert.equal((await runCli(args)).code, 0)
  assert.equal((await runCli([...args.slice(0, -1), 'mongo-run-2'])).code, 0)
  assert.equal(await db.collection('analytics_users').countDocuments(), 2)
  const rerun = await db.collection('analytics_summary').findOne({ _id: 'mongo-run-1' as never })
  assert.equal(rerun!.result.summary.transactions, 7)
})
