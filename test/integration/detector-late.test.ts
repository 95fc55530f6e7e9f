/**
 * Late payments on the real Kafka and Redis: a `darooghe detect` process that has seen today's
 * traffic gets an offline terminal's buffer, payments 40 minutes older, produced by kcat. Every
 * one is decided, flagged late; nothing goes to a late topic.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import { start } from '../helpers/cli.ts'
import { kcatProduce, type KcatRecord } from '../helpers/kcat.ts'
import { makeEvent } from '../topology/fixtures.ts'
import { KAFKA_BROKERS, uniqueName } from '../helpers/services.ts'
import {
  clearStateAfter,
  detectorArgs,
  type Json,
  makeTopics,
  parse,
  readTopics,
  waitCommitted
} from '../helpers/pipeline.ts'

const execFileP = promisify(execFile)
const PARTITIONS = 3
const LATE_TOPIC = 'darooghe.late_events'
const MINUTE = 60_000

/** A valid payment (the topology tests' fixture) with its own id, customer and event time. */
function payment(id: string, customer: string, t: number): Json {
  return { ...makeEvent({ t, customer_id: customer, transaction_id: id }) }
}

/** kcat writes each partition's records in order; a customer's payments all go to one partition. */
async function produce(topic: string, payments: readonly Json[]): Promise<void> {
  for (let p = 0; p < PARTITIONS; p++) {
    const records: KcatRecord[] = payments
      .filter(v => partitionOf(v.customer_id as string) === p)
      .map(v => ({ key: v.customer_id as string, value: Buffer.from(JSON.stringify(v)) }))
    if (records.length > 0) await kcatProduce(topic, records, { partition: p })
  }
}

const partitionOf = (customer: string): number => Number(/\d+$/.exec(customer)![0]) % PARTITIONS

/** End offsets of the default late topic, or null while it does not exist. */
async function lateEnds(): Promise<number[] | null> {
  const admin = new KafkaLogAdmin({ brokers: KAFKA_BROKERS })
  try {
    if (!(await admin.listTopics()).some(t => t.name === LATE_TOPIC)) return null
    return await admin.endOffsets(LATE_TOPIC)
  } finally {
    await admin.close()
  }
}

/** Records written to the late topic between two readings of its end offsets (kcat reads them). */
async function lateWritten(before: number[] | null, after: number[] | null): Promise<Json[]> {
  if (after === null) return []
  const out: Json[] = []
  for (let p = 0; p < after.length; p++) {
    const from = before?.[p] ?? 0
    if (after[p]! <= from) continue
    const args = ['-C', '-b', KAFKA_BROKERS.join(','), '-t', LATE_TOPIC, '-p', String(p)]
    args.push('-o', String(from), '-c', String(after[p]! - from), '-e', '-q', '-f', '%s\\n')
    const { stdout } = await execFileP('kcat', args, { timeout: 60_000, maxBuffer: 64 << 20 })
    for (const line of stdout.split('\n')) if (line.trim() !== '') out.push(JSON.parse(line) as Json)
  }
  return out
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(r => server.close(() => r()))
  return port
}

test("a detector that saw today's traffic decides every payment of a 40-minute-old buffer, flagged late; none goes to a late topic", async t => {
  const topics = await makeTopics(t, PARTITIONS)
  const group = uniqueName('g-late')
  clearStateAfter(t, group)
  const lateBefore = await lateEnds()
  const port = await freePort()
  const detector = start([
    'detect',
    ...detectorArgs(topics, group),
    '--partitions',
    String(PARTITIONS),
    '--batch-size',
    '50',
    '--status-interval',
    '0',
    '--metrics-port',
    String(port),
    '--log-level',
    'warn'
  ])
  t.after(() => detector.child.kill('SIGKILL'))

  // Today: two payments a customer in the last two minutes.
  const now = Date.now()
  const customers = Array.from({ length: 37 }, (_, i) => `cust_late_${i}`)
  const latest = new Map(customers.map((c, i) => [c, now - MINUTE + i * 100]))
  const today = customers.flatMap((c, i) => [
    payment(`today-a-${i}`, c, latest.get(c)! - 30_000),
    payment(`today-b-${i}`, c, latest.get(c)!)
  ])
  await produce(topics.input, today)
  await waitCommitted(group, topics.input)

  // The offline terminal's buffer: one payment of each of them, 40 minutes before its latest,
  // and three of a customer the detector has not seen (nothing to be late against).
  const buffered = customers.map((c, i) => payment(`buffer-${i}`, c, latest.get(c)! - 40 * MINUTE))
  const unseen = [0, 1, 2].map(k => payment(`buffer-new-${k}`, 'cust_new_0', now - 41 * MINUTE + k * 1_000))
  await produce(topics.input, [...buffered, ...unseen])
  await waitCommitted(group, topics.input)

  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  detector.child.kill('SIGTERM')
  assert.equal(await detector.exited, 0, detector.stderr)

  const all = [...today, ...buffered, ...unseen]
  const outputs = await readTopics([topics.approved, topics.fraud], recs => recs.length >= all.length)
  const decided = new Map(outputs.map(r => [parse(r).transaction_id as string, parse(r)]))
  for (const v of all) assert.ok(decided.has(v.transaction_id as string), `${v.transaction_id} decided`)
  for (const v of buffered) {
    const d = decided.get(v.transaction_id as string)!
    assert.deepEqual([d.late, d.lateness_ms], [true, 40 * MINUTE], `${v.transaction_id} flagged late`)
  }
  for (const v of [...today, ...unseen]) {
    const d = decided.get(v.transaction_id as string)!
    assert.equal('late' in d, false, `${v.transaction_id} on time for its customer`)
  }
  assert.match(metrics, new RegExp(`darooghe_events_total\\{outcome="late"\\} ${buffered.length}\\b`))

  const mine = (await lateWritten(lateBefore, await lateEnds())).filter(
    v => (v.source as { topic?: unknown } | undefined)?.topic === topics.input
  )
  assert.deepEqual(mine, [], `nothing of ${topics.input} on ${LATE_TOPIC}`)
})
