import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import { start } from '../helpers/cli.ts'
import {
  clearStateAfter,
  detectorArgs,
  generate,
  makeTopics,
  parse,
  produceAll,
  readTopics,
  waitCommitted
} from '../helpers/pipeline.ts'
import { KAFKA_BROKERS, REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'

test('detect --workers 2: two processes share the group and decide every event once', async t => {
  const topics = await makeTopics(t)
  const records = generate(4_000, 'workers')
  await produceAll(topics.input, records)
  const group = uniqueName('g-workers')
  clearStateAfter(t, group)
  const run = start([
    'detect',
    '--workers',
    '2',
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--redis',
    REDIS_URL,
    ...detectorArgs(topics, group),
    '--batch-size',
    '200'
  ])
  t.after(() => run.child.kill('SIGKILL'))
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  t.after(() => admin.close())
  await waitFor(async () => (await admin.groupMembers(group)) === 2, { what: 'two members in the group' })
  await waitCommitted(group, topics.input)
  run.child.kill('SIGINT')
  assert.equal(await run.exited, 0, run.stderr)

  const outputs = await readTopics(
    [topics.approved, topics.fraud, topics.errors],
    recs => recs.length >= records.length
  )
  const ids = outputs.map(r => parse(r).transaction_id as string | null).filter(id => id !== null)
  const decided = outputs.filter(r => r.topic !== topics.errors)
  assert.equal(
    new Set(decided.map(r => parse(r).transaction_id)).size,
    decided.length,
    'each event decided once'
  )
  assert.ok(ids.length >= records.length - 50, 'every event has an output (malformed ones may carry no id)')
})
