/**
 * Transactions from a client nobody here wrote: the Java client produces the input in
 * committed transactions interleaved with aborted ones that reuse the same transactional ids
 * and the same event ids, and `darooghe detect` decides exactly the committed records, in both
 * delivery modes. Its outputs are then read by kcat and by the Java consumer with
 * read_committed: each committed event's decision exactly once, as file mode decides it.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { Admin, FetchIsolationLevels } from '@platformatic/kafka'
import { murmur2 } from '../../src/adapters/kafka/murmur2.ts'
import type { GeneratedRecord } from '../../src/apps/generator/index.ts'
import { start, type Running } from '../helpers/cli.ts'
import {
  assertSameOutcome,
  content,
  fileModeOutcome,
  type Outcome,
  outcomeOf,
  waitDecided
} from '../helpers/interop.ts'
import { javaConsume, javaTransactions, type RawRecord, type TxStep } from '../helpers/java-client.ts'
import { kcatConsumeTopics } from '../helpers/kcat.ts'
import {
  clearStateAfter,
  detectorArgs,
  generate,
  type Json,
  makeTopics,
  type Topics
} from '../helpers/pipeline.ts'
import { KAFKA_BROKERS, uniqueName, waitFor } from '../helpers/services.ts'

const PARTITIONS = 3
const CHUNK = 100
const COMMITTED = generate(1_200, 'interop-tx')
/** Events only aborted transactions carry: decided, they would add decisions and state. */
const GHOSTS = generate(240, 'interop-tx-ghost')

const partitionOf = (e: GeneratedRecord): number => murmur2(e.key) % PARTITIONS
const recordOf = (e: GeneratedRecord, raw = e.raw): RawRecord => ({
  partition: partitionOf(e),
  key: Buffer.from(e.key),
  value: Buffer.from(raw)
})

/** The same event (same id) with another amount: decided, it would change the customer's history. */
function altered(e: GeneratedRecord): string {
  return e.raw.replace(/"amount":(\d+)/, (_, n: string) => `"amount":${Number(n) * 40 + 1}`)
}

/**
 * The transaction script. Each chunk of committed events has an aborted twin holding copies of
 * half its events (every other one byte for byte, the others with another amount) and fresh
 * ghost events. Even chunks: producers `c` and `a` keep both transactions open at once and
 * alternate their sends, so aborted and committed batches interleave in the partitions. Odd
 * chunks: producer `c` itself aborts the twin, then commits the chunk with the same
 * transactional id.
 */
function script(): TxStep[] {
  const steps: TxStep[] = []
  const chunks = Math.ceil(COMMITTED.length / CHUNK)
  const ghostsPer = Math.ceil(GHOSTS.length / chunks)
  for (let c = 0; c < chunks; c++) {
    const good = COMMITTED.slice(c * CHUNK, (c + 1) * CHUNK).map(e => recordOf(e))
    const twins = COMMITTED.slice(c * CHUNK, (c + 1) * CHUNK)
      .filter((_, i) => i % 2 === 0)
      .map((e, i) => recordOf(e, i % 2 === 0 ? e.raw : altered(e)))
    const bad = [...twins, ...GHOSTS.slice(c * ghostsPer, (c + 1) * ghostsPer).map(e => recordOf(e))]
    const send = (producer: string, record: RawRecord): TxStep => ({ producer, op: 'send', record })
    if (c % 2 === 0) {
      steps.push({ producer: 'a', op: 'begin' }, { producer: 'c', op: 'begin' })
      for (let i = 0; i < Math.max(good.length, bad.length); i++) {
        if (i < bad.length) steps.push(send('a', bad[i]!))
        if (i < good.length) steps.push(send('c', good[i]!))
      }
      // Either may end first.
      const ends: TxStep[] = [
        { producer: 'a', op: 'abort' },
        { producer: 'c', op: 'commit' }
      ]
      steps.push(...(c % 4 === 0 ? ends : ends.reverse()))
    } else {
      steps.push({ producer: 'c', op: 'begin' }, ...bad.map(r => send('c', r)), {
        producer: 'c',
        op: 'abort'
      })
      steps.push({ producer: 'c', op: 'begin' }, ...good.map(r => send('c', r)), {
        producer: 'c',
        op: 'commit'
      })
    }
  }
  return steps
}

let referenceRun: Promise<Outcome> | null = null

/** File mode on exactly the committed events, each partition's in the order they were committed. */
function reference(): Promise<Outcome> {
  referenceRun ??= (() => {
    const byPartition = new Map<number, Buffer[]>()
    for (const e of COMMITTED) {
      const list = byPartition.get(partitionOf(e)) ?? []
      list.push(Buffer.from(e.raw))
      byPartition.set(partitionOf(e), list)
    }
    return fileModeOutcome(byPartition)
  })()
  return referenceRun
}

/**
 * Produces the script and returns, per partition, the offset after its last committed record:
 * what the detector commits once it decided everything. (It commits the offset after the last
 * record it read, not past the transaction markers and aborted records behind it, so the end
 * offset of a partition is out of its reach.)
 */
async function produceInput(topics: Topics): Promise<number[]> {
  const counts = await javaTransactions(topics.input, uniqueName('tx-interop'), script())
  const chunks = Math.ceil(COMMITTED.length / CHUNK)
  assert.deepEqual(counts, { committed: chunks, aborted: chunks })
  const input = await kcatConsumeTopics([topics.input], { isolation: 'read_committed' })
  // The Java client's transactions reached the topic as scripted: only the committed events are visible.
  assert.deepEqual(
    input.map(r => r.value!.toString()).sort(),
    COMMITTED.map(e => e.raw).sort(),
    'read_committed input'
  )
  const targets = Array.from({ length: PARTITIONS }, () => 0)
  for (const r of input) targets[r.partition] = Math.max(targets[r.partition]!, r.offset + 1)
  return targets
}

function startDetector(topics: Topics, group: string, extra: string[]): Running {
  const args = ['detect', ...extra, ...detectorArgs(topics, group), '--batch-size', '100']
  return start([...args, '--log-level', 'warn'])
}

const OUTPUTS = (topics: Topics): string[] => [topics.approved, topics.fraud, topics.alerts, topics.errors]

/** kcat and the Java consumer, both read_committed: each sees exactly the reference outcome. */
async function checkCommittedReaders(topics: Topics): Promise<void> {
  const want = await reference()
  assert.ok(want.decisions.size > 1_100 && want.alerts.size > 0, 'the reference decided the stream')
  const kcat = await kcatConsumeTopics(OUTPUTS(topics), { isolation: 'read_committed' })
  assertSameOutcome(outcomeOf(topics, kcat), want, 'kcat read_committed')
  const java = await javaConsume(OUTPUTS(topics), 'read_committed')
  assertSameOutcome(outcomeOf(topics, java), want, 'Java read_committed')
}

function detectorRun(t: TestContext, topics: Topics, group: string, extra: string[]): Running {
  const d = startDetector(topics, group, extra)
  t.after(() => d.child.kill('SIGKILL'))
  return d
}

test('at-least-once (outputs-first): Java transactions, aborted ones interleaved; detect decides exactly the committed records', async t => {
  const topics = await makeTopics(t, PARTITIONS)
  const targets = await produceInput(topics)
  const group = uniqueName('g-tx-alo')
  clearStateAfter(t, group)
  const detector = detectorRun(t, topics, group, [])
  await waitDecided(detector, group, topics.input, targets)
  await checkCommittedReaders(topics)
  // Outputs of the at-least-once mode are not transactional: read_uncommitted sees the same.
  const uncommitted = await kcatConsumeTopics(OUTPUTS(topics), { isolation: 'read_uncommitted' })
  assertSameOutcome(outcomeOf(topics, uncommitted), await reference(), 'kcat read_uncommitted')
  detector.child.kill('SIGTERM')
  assert.equal(await detector.exited, 0, detector.stderr)
})

/** Whether an output partition holds records past its last stable offset: an open transaction. */
async function openTransaction(admin: Admin, topics: Topics, roles: (keyof Topics)[]): Promise<boolean> {
  const request = roles.map(role => ({
    name: topics[role],
    partitions: Array.from({ length: PARTITIONS }, (_, i) => ({ partitionIndex: i, timestamp: -1n }))
  }))
  const [high, stable] = await Promise.all([
    admin.listOffsets({ topics: request, isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED }),
    admin.listOffsets({ topics: request, isolationLevel: FetchIsolationLevels.READ_COMMITTED })
  ])
  const at = (res: typeof high, name: string, p: number): bigint =>
    res.find(x => x.name === name)!.partitions.find(x => x.partitionIndex === p)!.offset
  return request.some(r =>
    r.partitions.some(p => at(high, r.name, p.partitionIndex) > at(stable, r.name, p.partitionIndex))
  )
}

test('exactly-once (state-first, transactional outputs): killed inside an output transaction; read_committed readers see each committed decision exactly once', async t => {
  const topics = await makeTopics(t, PARTITIONS)
  const targets = await produceInput(topics)
  const group = uniqueName('g-tx-eos')
  clearStateAfter(t, group)
  const eos = ['--exactly-once', '--instance-id', uniqueName('tx-interop')]
  const first = detectorRun(t, topics, group, eos)
  const admin = new Admin({ clientId: 'test-lso', bootstrapBrokers: KAFKA_BROKERS })
  t.after(() => admin.close())
  // Killed while one of its output transactions holds records: they must never be read committed.
  await waitFor(
    async () =>
      first.child.exitCode !== null || (await openTransaction(admin, topics, ['approved', 'fraud'])),
    {
      what: 'an open output transaction',
      timeoutMs: 120_000,
      intervalMs: 5
    }
  )
  assert.equal(first.child.exitCode, null, `the detector is running (stderr: ${first.stderr})`)
  first.child.kill('SIGKILL')
  await first.exited
  const last = detectorRun(t, topics, group, eos)
  await waitDecided(last, group, topics.input, targets)
  last.child.kill('SIGTERM')
  assert.equal(await last.exited, 0, last.stderr)
  // The killed instance's transaction holds the last stable offset of its partitions until the
  // broker rolls it back (the detector's transaction timeout, 10 s, plus the broker's check
  // interval): read_committed readers see nothing past it until then.
  const stopped = Date.now()
  await waitFor(
    async () => !(await openTransaction(admin, topics, ['approved', 'fraud', 'alerts', 'errors'])),
    {
      what: "the rollback of the killed instance's output transaction",
      timeoutMs: 60_000,
      intervalMs: 200
    }
  )
  const heldBack = Date.now() - stopped
  t.diagnostic(`read_committed readers held back ${heldBack} ms after the last detector stopped`)
  await checkCommittedReaders(topics)

  // read_uncommitted also sees the aborted outputs: nothing but repeats of committed decisions.
  const want = await reference()
  const committed = await kcatConsumeTopics(OUTPUTS(topics), { isolation: 'read_committed' })
  const all = await kcatConsumeTopics(OUTPUTS(topics), { isolation: 'read_uncommitted' })
  const at = (r: { topic: string; partition: number; offset: number }): string =>
    `${r.topic}:${r.partition}:${r.offset}`
  const visible = new Set(committed.map(at))
  const aborted = all.filter(r => !visible.has(at(r)))
  assert.equal(all.length - aborted.length, committed.length, 'read_uncommitted holds every committed record')
  for (const r of aborted) {
    if (r.topic === topics.errors) continue
    const v = JSON.parse(r.value!.toString()) as Json
    const id = v.transaction_id as string
    const of = r.topic === topics.alerts ? want.alerts : want.decisions
    assert.equal(content(v), of.get(id), `aborted output ${at(r)} repeats a committed one`)
  }
  // Held back seconds after the last detector ended its own: the killed one's transaction was open.
  if (heldBack > 5_000)
    assert.ok(aborted.length > 0, 'the open transaction of the killed instance was aborted')
  t.diagnostic(`${aborted.length} records of aborted output transactions, unseen by read_committed`)
})
