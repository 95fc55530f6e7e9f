/**
 * Chaos: a rolling restart of a two-broker Kafka cluster under a paced load. The broker that
 * coordinates the detector's group is stopped (its leaders and the coordinator move to the
 * other broker), then started again (they move back). `darooghe detect` and `darooghe produce`
 * run throughout as processes of their own: both must keep running, lose nothing, and every
 * re-emitted output must be byte-identical. This is the case of the original report: the
 * client library caches the coordinator, and its commits failed until the detector exited.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { KafkaLogAdmin } from '../../src/adapters/kafka/index.ts'
import { checkDetect, checkProduce, readOutputsFrom } from '../helpers/chaos-checks.ts'
import { TOPICS } from '../helpers/chaos-pipeline.ts'
import { start, type Running } from '../helpers/cli.ts'
import { RedisStateStore } from '../../src/adapters/redis/state-store.ts'
import { KafkaCluster } from '../helpers/kafka-cluster.ts'
import { REDIS_URL, uniqueName, waitFor } from '../helpers/services.ts'

const RATE = Number(process.env.DAROOGHE_CHAOS_RATE ?? 300)
const ROUNDS = Number(process.env.DAROOGHE_CHAOS_ROUNDS ?? (process.env.DAROOGHE_CHAOS_LONG === '1' ? 2 : 1))

const cluster = new KafkaCluster()
const group = uniqueName('chaos-coord')
let admin: KafkaLogAdmin
let detect: Running
let produce: Running
const sentLog = join(cluster.dir, 'sent.ndjson')

async function committed(): Promise<number> {
  try {
    return (await admin.committedOffsets(group, TOPICS.input)).reduce((a, c) => a + Math.max(0, c), 0)
  } catch {
    return -1
  }
}

function alive(r: Running, name: string): void {
  if (r.child.exitCode !== null || r.child.signalCode !== null)
    throw new Error(`${name} exited (${r.child.exitCode ?? r.child.signalCode}):\n${r.stderr.slice(-3000)}`)
}

/** Until the detector has committed more than it had, with both commands alive. */
async function progresses(what: string): Promise<number> {
  const from = await committed()
  const t0 = Date.now()
  await waitFor(
    async () => {
      alive(detect, 'detect')
      alive(produce, 'produce')
      return (await committed()) > from
    },
    { what: `the detector to commit again ${what}`, timeoutMs: 90_000, intervalMs: 250 }
  )
  return Date.now() - t0
}

before(async () => {
  await cluster.start()
  admin = new KafkaLogAdmin({ brokers: cluster.brokers, clientId: 'chaos-coord', timeoutMs: 5_000 })
  // Every topic on both brokers, so that a stopped broker's partitions move instead of going
  // offline (the CLI would create them with one replica).
  const kafka = new Admin({ clientId: 'chaos-coord', bootstrapBrokers: cluster.brokers })
  try {
    const names = Object.values(TOPICS)
    await kafka.createTopics({ topics: names, partitions: 3, replicas: 2 })
  } finally {
    await kafka.close()
  }
})

after(async () => {
  for (const r of [produce, detect]) if (r && r.child.exitCode === null) r.child.kill('SIGKILL')
  await admin?.close().catch(() => {})
  await cluster.destroy()
  // The detector's state in the shared Redis (keys of its group only).
  const store = await RedisStateStore.connect({ url: REDIS_URL, keyPrefix: `darooghe:${group}:` })
  await store.clear()
  await store.close()
})

test('rolling restart: the group coordinator moves away and back; detect and produce keep going, nothing lost', async t => {
  const brokers = cluster.brokers.join(',')
  detect = start([
    'detect',
    '--brokers',
    brokers,
    '--redis',
    REDIS_URL,
    '--group',
    group,
    '--batch-size',
    '500',
    '--status-interval',
    '0',
    '--log-level',
    'info'
  ])
  await waitFor(async () => (alive(detect, 'detect'), (await admin.groupMembers(group)) > 0), {
    what: 'the detector to join',
    timeoutMs: 90_000,
    intervalMs: 250
  })
  produce = start([
    'produce',
    '--brokers',
    brokers,
    '--rate',
    String(RATE),
    '--customers',
    '40000',
    '--seed',
    group,
    '--sent-log',
    sentLog,
    '--batch-size',
    '500'
  ])
  await progresses('at first')
  const moves: string[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const home = await cluster.coordinatorOf(group)
    const stoppedAt = Date.now()
    await cluster.stopNode(home)
    const elsewhere = await waitFor(
      async () => {
        const c = await cluster.coordinatorOf(group).catch(() => home)
        return c !== home ? c : 0
      },
      { what: 'the coordinator to move', timeoutMs: 60_000, intervalMs: 250 }
    )
    const away = await progresses(`with the coordinator moved from broker ${home} to ${elsewhere}`)
    cluster.startNode(home)
    await cluster.waitBrokers(2)
    await waitFor(async () => (await cluster.coordinatorOf(group).catch(() => 0)) === home, {
      what: `the coordinator to move back to broker ${home}`,
      timeoutMs: 90_000,
      intervalMs: 500
    })
    const back = await progresses(`with the coordinator back on broker ${home}`)
    moves.push(
      `round ${round}: coordinator ${home} → ${elsewhere} (stopped ${Math.round((Date.now() - stoppedAt) / 1000)} s ago); ` +
        `detect committed again ${away} ms after the move away, ${back} ms after the move back`
    )
  }
  produce.child.kill('SIGTERM')
  assert.equal(await produce.exited, 0, `produce exits 0:\n${produce.stderr.slice(-2000)}`)
  const ends = await admin.endOffsets(TOPICS.input)
  await waitFor(
    async () => (
      alive(detect, 'detect'),
      (await admin.committedOffsets(group, TOPICS.input)).every((c, p) => c >= ends[p]!)
    ),
    { what: 'the detector to commit the end of the input', timeoutMs: 120_000, intervalMs: 500 }
  )
  const outputs = await readOutputsFrom(cluster.brokers)
  const sent = { sentLines: () => readFileSync(sentLog, 'utf8').split('\n').filter(Boolean) }
  const results = [checkProduce(sent, outputs), checkDetect(outputs)]
  detect.child.kill('SIGTERM')
  assert.equal(await detect.exited, 0, `detect exits 0 on SIGTERM:\n${detect.stderr.slice(-2000)}`)
  const replaced = detect.stderr.split('\n').filter(l => l.includes('the group coordinator moved')).length
  const warnings = detect.stderr.split('\n').filter(l => l.includes('"level":40')).length
  for (const m of moves) t.diagnostic(m)
  t.diagnostic(`detect: new client for a moved coordinator ${replaced} times, ${warnings} warnings logged`)
  for (const r of results)
    t.diagnostic(
      `${r.command}: ${JSON.stringify(r.counts)}${r.problems.length ? ` PROBLEMS: ${r.problems.join('; ')}` : ''}`
    )
  assert.deepEqual(
    results.filter(r => r.problems.length > 0).map(r => `${r.command}: ${r.problems.join('; ')}`),
    []
  )
})
