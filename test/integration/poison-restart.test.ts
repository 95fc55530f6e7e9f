import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import type { Alert } from '../../src/ports/alert-sink.ts'
import { start } from '../helpers/cli.ts'
import { deepObject } from '../helpers/hostile.ts'
import { kcatProduce } from '../helpers/kcat.ts'
import { clearStateAfter, parse, readTopics } from '../helpers/pipeline.ts'
import { createTopic, KAFKA_BROKERS, REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'

function alert(i: number): Alert {
  return {
    alert_id: `alert-tx-${i}`,
    created_at: new Date(Date.UTC(2026, 2, 1, 10, 0, i)).toISOString(),
    severity: 'critical',
    customer_id: `cust_${i}`,
    transaction_id: `tx-${i}`,
    risk_score: 95,
    rules_fired: ['velocity'],
    trace: {},
    decision: 'fraud'
  }
}

/** Poison of a different class each round, each at the head of what that run reads. */
const POISONS: [string, Buffer][] = [
  ['max-depth', deepObject(5_000)],
  [
    'not_utf8',
    Buffer.concat([
      Buffer.from(JSON.stringify(alert(90)).slice(0, -1) + ',"x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}')
    ])
  ],
  ['forbidden_key', Buffer.from('{"__proto__":{"polluted":1}}')],
  // Stopped the dispatcher before: iterating rules_fired threw out of the batch, on every restart.
  ['shape', Buffer.from(JSON.stringify({ ...alert(91), rules_fired: 5 }))],
  ['not_json', Buffer.from('{"alert_id":"alert-tx-9')]
]

interface LogLine {
  msg?: string
  offset?: number
  kind?: string
  reason?: string
}

const logLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter(l => l.startsWith('{'))
    .map(l => JSON.parse(l) as LogLine)

test('dispatch CLI: a poison record at the head, SIGKILL and restart five times: every run commits past it', async t => {
  const topic = await createTopic(t, 'poison', 1)
  const summaries = await createTopic(t, 'poison-summary', 1)
  const group = uniqueName('g-poison')
  clearStateAfter(t, group)
  const file = join(mkdtempSync(join(tmpdir(), 'darooghe-poison-')), 'alerts.log')
  const args = ['dispatch', '--file', file, '--brokers', KAFKA_BROKERS.join(','), '--topic', topic]
  args.push(
    '--group',
    group,
    '--redis',
    REDIS_URL,
    '--summary-topic',
    summaries,
    '--summary-interval',
    '3600'
  )
  args.push('--log-level', 'warn')
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  t.after(() => admin.close())
  const committed = async (): Promise<number> => (await admin.committedOffsets(group, topic))[0]!

  for (let round = 0; round < POISONS.length; round++) {
    const [kind, poison] = POISONS[round]!
    // The poison first, then an ordinary alert: the run starts at the poison (the last commit).
    await kcatProduce(topic, [
      { key: 'poison', value: poison },
      { key: 'ok', value: Buffer.from(JSON.stringify(alert(round))) }
    ])
    const poisonOffset = 2 * round
    assert.equal(
      await committed(),
      round === 0 ? -1 : poisonOffset,
      'the previous run committed up to the poison'
    )
    const run = start(args)
    t.after(() => run.child.kill('SIGKILL'))
    await waitFor(
      async () => {
        if (run.child.exitCode !== null) throw new Error(`dispatch exited: ${run.stderr}`)
        return (await committed()) === poisonOffset + 2
      },
      {
        what: `run ${round} to commit past the poison at offset ${poisonOffset}`,
        timeoutMs: 60_000,
        intervalMs: 100
      }
    )
    const last = round === POISONS.length - 1
    run.child.kill(last ? 'SIGINT' : 'SIGKILL')
    const exit = await run.exited
    if (last) assert.equal(exit, 0, run.stderr)
    // This run read the poison at its head, once, and none of the earlier ones (committed past).
    const rejected = logLines(run.stderr).filter(l => l.msg?.startsWith('record rejected'))
    assert.deepEqual(
      rejected.map(l => [l.offset, l.kind]),
      [[poisonOffset, kind]],
      run.stderr
    )
    assert.ok(rejected[0]!.reason && rejected[0]!.reason.length > 0)
  }
  const ids = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map(l => (JSON.parse(l) as Alert).alert_id)
  assert.deepEqual(
    ids,
    POISONS.map((_, i) => `alert-tx-${i}`),
    'every ordinary alert delivered once, across the kills'
  )
  assert.ok(existsSync(file))
  // The last run (stopped with SIGINT) published its summary with the rejection counted.
  const [summary] = await readTopics([summaries], recs => recs.length > 0)
  const counts = parse(summary!) as { rejected: { total: number; by_kind: Record<string, number> } }
  assert.deepEqual(counts.rejected, { total: 1, by_kind: { not_json: 1 } })
})
