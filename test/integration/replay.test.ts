import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { LogRecord } from '../../src/ports/log.ts'
import { runCli } from '../helpers/cli.ts'
import {
  clearStateAfter,
  generate,
  makeTopics,
  parse,
  produceAll,
  readTopics,
  type Topics
} from '../helpers/pipeline.ts'
import { KAFKA_BROKERS, REDIS_URL, uniqueName } from '../helpers/services.ts'

function topicFlags(t: Topics): string[] {
  return [
    '--brokers',
    KAFKA_BROKERS.join(','),
    '--redis',
    REDIS_URL,
    '--topic',
    t.input,
    '--approved-topic',
    t.approved,
    '--fraud-topic',
    t.fraud,
    '--alerts-topic',
    t.alerts,
    '--errors-topic',
    t.errors,
    '--batch-size',
    '500',
    '--status-interval',
    '0'
  ]
}

async function replay(t: TestContext, topics: Topics, group: string, ...extra: string[]) {
  clearStateAfter(t, group)
  const r = await runCli(['replay', ...topicFlags(topics), '--group', group, ...extra])
  assert.equal(r.code, 0, r.stderr)
  return r
}

/** All records of the output topics, once `expected` decisions and errors are there. */
async function outputs(topics: Topics, expected: number): Promise<LogRecord[]> {
  const all = [topics.approved, topics.fraud, topics.errors, topics.alerts]
  return readTopics(all, recs => recs.filter(r => r.topic !== topics.alerts).length >= expected)
}

const byId = (records: LogRecord[], topic: string, field: string): Map<string, string[]> => {
  const m = new Map<string, string[]>()
  for (const r of records.filter(x => x.topic === topic)) {
    const id = parse(r)[field] as string
    m.set(id, [...(m.get(id) ?? []), r.value!.toString()])
  }
  return m
}

test('replay: into the same group nothing is re-decided; into a new group the same alerts by id; from a timestamp only the later records', async t => {
  const topics = await makeTopics(t, 3)
  const records = generate(3_000, 'replay')
  await produceAll(topics.input, records)
  const group = uniqueName('g-replay')

  // First pass: a new group from the beginning, until caught up (replay exits by itself).
  await replay(t, topics, group, '--from-beginning')
  const first = await outputs(topics, records.length)
  const alerts = byId(first, topics.alerts, 'alert_id')
  assert.ok(alerts.size > 5, `alerts raised (${alerts.size})`)
  for (const [id, copies] of alerts) assert.equal(copies.length, 1, `${id} raised once`)

  // Into the same group again: processed offsets are known, nothing is evaluated twice.
  await replay(t, topics, group, '--from-beginning')
  const again = await outputs(topics, records.length)
  const alertsAgain = byId(again, topics.alerts, 'alert_id')
  assert.deepEqual([...alertsAgain.keys()].sort(), [...alerts.keys()].sort(), 'no new alert')
  for (const [id, copies] of alertsAgain)
    for (const c of copies) assert.equal(c, alerts.get(id)![0], `a re-emitted ${id} is byte-identical`)

  // Into a new group: every record evaluated afresh, with the same decisions and alert ids.
  const fresh = await makeTopics(t, 3)
  await produceAll(fresh.input, records)
  const other = uniqueName('g-replay-new')
  await replay(t, { ...fresh, input: topics.input }, other, '--from-beginning')
  const second = await outputs(fresh, records.length)
  assert.deepEqual([...byId(second, fresh.alerts, 'alert_id').keys()].sort(), [...alerts.keys()].sort())
  const decisionOf = (recs: LogRecord[], ts: Topics) => {
    const m = new Map<string, string>()
    for (const r of recs.filter(x => x.topic === ts.approved || x.topic === ts.fraud)) {
      const v = parse(r)
      m.set(v.transaction_id as string, JSON.stringify([v.decision, v.risk_score, v.rules_fired, v.trace]))
    }
    return m
  }
  assert.deepEqual(decisionOf(second, fresh), decisionOf(first, topics))

  // From a timestamp: only records stamped at or after it are processed.
  const cut = records[Math.floor(records.length / 2)]!.eventTimeMs
  const later = records.filter(r => r.eventTimeMs >= cut).length
  const third = await makeTopics(t, 3)
  await replay(
    t,
    { ...third, input: topics.input },
    uniqueName('g-replay-ts'),
    '--from-timestamp',
    new Date(cut).toISOString()
  )
  const fromTs = await outputs(third, later)
  const evaluated = fromTs.filter(r => r.topic !== third.alerts)
  assert.equal(evaluated.length, later)
})

test('replay refuses unclear or bad start points with a one-line error', async () => {
  const none = await runCli(['replay', '--brokers', KAFKA_BROKERS.join(',')])
  assert.notEqual(none.code, 0)
  assert.match(none.stderr, /--from-beginning or --from-timestamp/)
  const bad = await runCli(['replay', '--from-timestamp', 'yesterday'])
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /--from-timestamp must be an ISO-8601 time/)
  const missing = await runCli(['replay', '--from-beginning', '--topic', uniqueName('no-such-topic')])
  assert.notEqual(missing.code, 0)
  assert.match(missing.stderr, /does not exist/)
})
