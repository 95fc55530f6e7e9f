import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MongoClient } from 'mongodb'
import { MONGO_URL, uniqueName } from '../helpers/services.ts'

test('MongoDB: insert, idempotent upsert and aggregate with the official driver', async t => {
  const client = new MongoClient(MONGO_URL, { serverSelectionTimeoutMS: 5_000 })
  await client.connect()
  const db = client.db(uniqueName('test').replace(/-/g, '_'))
  t.after(async () => {
    await db.dropDatabase()
    await client.close()
  })
  const col = db.collection<{ _id: string; merchant: string; amount: number }>('tx')
  await col.insertMany([
    { _id: 'a', merchant: 'm1', amount: 100 },
    { _id: 'b', merchant: 'm1', amount: 250 },
    { _id: 'c', merchant: 'm2', amount: 75 }
  ])
  const ops = [
    { updateOne: { filter: { _id: 'c' }, update: { $set: { merchant: 'm2', amount: 80 } }, upsert: true } },
    { updateOne: { filter: { _id: 'd' }, update: { $set: { merchant: 'm2', amount: 20 } }, upsert: true } }
  ]
  await col.bulkWrite(ops, { ordered: false })
  const again = await col.bulkWrite(ops, { ordered: false })
  assert.equal(again.upsertedCount, 0, 'upserting the same documents again creates nothing')
  assert.equal(await col.countDocuments(), 4)
  const byMerchant = await col
    .aggregate<{ _id: string; total: number; n: number }>([
      { $match: { amount: { $gt: 0 } } },
      { $group: { _id: '$merchant', total: { $sum: '$amount' }, n: { $sum: 1 } } },
      { $sort: { _id: 1 } }
    ])
    .toArray()
  assert.deepEqual(byMerchant, [
    { _id: 'm1', total: 350, n: 2 },
    { _id: 'm2', total: 100, n: 2 }
  ])
})
