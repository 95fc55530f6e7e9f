import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { MongoAlertStore, MongoDocumentStore } from '../../src/adapters/mongo/index.ts'
import type { StoredAlert } from '../../src/apps/api/types.ts'
import { documentMapper, storeTopics } from '../../src/apps/store/index.ts'
import { DaroogheError } from '../../src/errors.ts'
import { MONGO_URL, uniqueName } from '../helpers/services.ts'

async function open(t: TestContext): Promise<{ alerts: MongoAlertStore; docs: MongoDocumentStore }> {
  const docs = await MongoDocumentStore.connect({
    url: MONGO_URL,
    database: uniqueName('test_alerts').replace(/-/g, '_')
  })
  t.after(async () => {
    await docs.database.dropDatabase()
    await docs.close()
  })
  return { alerts: new MongoAlertStore(docs.database), docs }
}

function alert(i: number, customer: string, rules: string[]): StoredAlert {
  return {
    alert_id: `alert-${i}`,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    severity: 'high',
    customer_id: customer,
    transaction_id: `tx-${i}`,
    merchant_id: 'merch_1',
    amount: 1000 + i,
    event_time: new Date(Date.UTC(2026, 0, 1, 0, 0, i) - 500).toISOString(),
    risk_score: 90,
    rules_fired: rules,
    trace: {},
    decision: 'fraud'
  }
}

test('add dedupes by alert_id; alerts come back as they were added, newest first', async t => {
  const { alerts } = await open(t)
  const a = alert(1, 'cust_1', ['velocity'])
  assert.equal(await alerts.add(a), true)
  assert.equal(await alerts.add(a), false)
  assert.equal(await alerts.add(alert(2, 'cust_2', ['amount_anomaly'])), true)
  assert.equal(await alerts.size(), 2)
  const page = await alerts.query({ limit: 10 })
  assert.deepEqual(
    page.alerts.map(x => x.alert_id),
    ['alert-2', 'alert-1']
  )
  assert.deepEqual(page.alerts[1], a)
  assert.equal(page.next_cursor, null)
})

test('filters by customer, rule and time; pages with a cursor; a foreign cursor is a USAGE error', async t => {
  const { alerts } = await open(t)
  for (let i = 0; i < 12; i++)
    await alerts.add(alert(i, i % 2 ? 'cust_odd' : 'cust_even', i % 3 ? ['velocity'] : ['impossible_travel']))
  const ids = (p: { alerts: StoredAlert[] }) => p.alerts.map(a => a.alert_id)
  assert.deepEqual(
    ids(await alerts.query({ limit: 50, customer_id: 'cust_odd', rule: 'impossible_travel' })),
    ['alert-9', 'alert-3']
  )
  const from = Date.UTC(2026, 0, 1, 0, 0, 4)
  const to = Date.UTC(2026, 0, 1, 0, 0, 7)
  assert.deepEqual(ids(await alerts.query({ limit: 50, fromMs: from, toMs: to })), [
    'alert-6',
    'alert-5',
    'alert-4'
  ])
  const seen: string[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 10; pages++) {
    const p = await alerts.query({ limit: 5, ...(cursor ? { cursor } : {}) })
    seen.push(...ids(p))
    if (!p.next_cursor) break
    cursor = p.next_cursor
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 12 }, (_, i) => `alert-${11 - i}`)
  )
  await assert.rejects(
    alerts.query({ limit: 5, cursor: 'bm9wZQ' }),
    (e: unknown) => e instanceof DaroogheError && e.kind === 'USAGE'
  )
})

test('alerts written by the storage sink are listed by the API store', async t => {
  const { alerts, docs } = await open(t)
  const topics = storeTopics()
  const mapper = documentMapper(topics)
  const a = alert(7, 'cust_7', ['velocity'])
  const placed = mapper({
    topic: topics.alerts,
    partition: 0,
    offset: 0,
    key: null,
    value: Buffer.from(JSON.stringify(a)),
    headers: {},
    timestamp: 0
  })
  await docs.upsertMany(
    'alerts',
    placed.map(p => p.doc)
  )
  assert.deepEqual((await alerts.query({ limit: 10, customer_id: 'cust_7' })).alerts, [a])
  assert.equal(await alerts.add(a), false, 'already stored by the sink')
})
